// A TargetAddress value (RFC 7143 §13.8): host[:port][,portal-group-tag], where the
// host is a DNS name, an IPv4 address or an IPv6 address in brackets.

import ISCSIAddress

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
        // The host and port are read as every other address is (ISCSIAddress).
        let endpoint: ISCSIEndpoint
        do {
            endpoint = try ISCSIEndpoint(parsing: String(address))
        } catch {
            throw malformed(error.reason)
        }
        self.init(host: endpoint.host, port: endpoint.port, portalGroupTag: tag)
    }

    /// `host:port[,tag]`, with brackets around IPv6 addresses.
    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(shownHost):\(port)" + (portalGroupTag.map { ",\($0)" } ?? "")
    }
}
