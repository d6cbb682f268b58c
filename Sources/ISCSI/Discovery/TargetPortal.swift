// A TargetAddress value (RFC 7143 §13.8): host[:port][,portal-group-tag], where the
// host is a DNS name, an IPv4 address or an IPv6 address in brackets.

/// Where a target listens, as SendTargets answers and login redirections give it.
public struct TargetPortal: Sendable, Hashable, CustomStringConvertible {
    /// The well-known iSCSI port (RFC 7143 §13.8: used when the value names none).
    public static let defaultPort = 3260

    /// A DNS name, an IPv4 address, or an IPv6 address without its brackets.
    public var host: String
    public var port: Int
    public var portalGroupTag: UInt16?

    public init(host: String, port: Int = TargetPortal.defaultPort, portalGroupTag: UInt16? = nil) {
        self.host = host
        self.port = port
        self.portalGroupTag = portalGroupTag
    }

    /// Parses a TargetAddress value such as `10.0.0.1:3260,1`, `[fe80::1]:3261` or `san.example`.
    public init(parsing text: String) throws(ISCSIError) {
        func malformed(_ why: String) -> ISCSIError {
            ISCSIError(.protocolViolation, scope: .connection, "TargetAddress=\(text) is malformed: \(why)")
        }
        var address = Substring(text)
        var tag: UInt16?
        // The tag follows the last comma; an IPv6 literal holds no commas, so this is safe.
        if let comma = address.lastIndex(of: ",") {
            let tagText = address[address.index(after: comma)...]
            guard let value = TextValue.decimal(String(tagText)), value <= UInt64(UInt16.max) else {
                throw malformed("portal group tag '\(tagText)' is not a number in 0...65535")
            }
            tag = UInt16(value)
            address = address[..<comma]
        }
        let host: Substring
        var portText: Substring?
        if address.hasPrefix("[") {
            guard let close = address.firstIndex(of: "]") else { throw malformed("IPv6 literal has no closing ]") }
            host = address[address.index(after: address.startIndex)..<close]
            let rest = address[address.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw malformed("unexpected '\(rest)' after the IPv6 literal") }
                portText = rest.dropFirst()
            }
            // An optional zone follows "%" (RFC 6874), e.g. fe80::1%eth0.
            let parts = host.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false)
            let zoneIsValid =
                parts.count == 1
                || (!parts[1].isEmpty && parts[1].allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." })
            guard !parts[0].isEmpty, parts[0].allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }), zoneIsValid else {
                throw malformed("'\(host)' is not an IPv6 address")
            }
        } else {
            let colons = address.filter { $0 == ":" }.count
            // A bare IPv6 address cannot be told from host:port; RFC 7143 §13.8 requires brackets.
            guard colons <= 1 else { throw malformed("an IPv6 address must be written in brackets") }
            if let colon = address.firstIndex(of: ":") {
                host = address[..<colon]
                portText = address[address.index(after: colon)...]
            } else {
                host = address
            }
            guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" })
            else {
                throw malformed("'\(host)' is not a host name or IPv4 address")
            }
        }
        var port = Self.defaultPort
        if let portText {
            guard let value = TextValue.decimal(String(portText)), (1...65535).contains(value) else {
                throw malformed("port '\(portText)' is not a number in 1...65535")
            }
            port = Int(value)
        }
        self.init(host: String(host), port: port, portalGroupTag: tag)
    }

    /// `host:port[,tag]`, with brackets around IPv6 addresses.
    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(shownHost):\(port)" + (portalGroupTag.map { ",\($0)" } ?? "")
    }
}
