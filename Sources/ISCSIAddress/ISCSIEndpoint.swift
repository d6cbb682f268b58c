// One host and TCP port: where a target listens, where an export or the metrics listener
// binds. The lowest target every user can import (the native and libiscsi engines, the
// export, the daemon and the CLI), so none of them keeps a parser of its own.

/// A host name, IPv4 address or IPv6 address (without brackets), and a port.
public struct ISCSIEndpoint: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The iSCSI well-known port (RFC 7143 §13.8), used when the text names none.
    public static let defaultPort = 3260

    public var host: String
    public var port: Int

    public init(host: String, port: Int = ISCSIEndpoint.defaultPort) {
        self.host = host
        self.port = port
    }

    /// Parses "HOST", "HOST:PORT", "[V6]" or "[V6]:PORT". Without a port, `defaultPort`
    /// (nil: a port is required). `allowsPortZero` admits port 0, "any free port", for
    /// addresses to listen on.
    public init(parsing text: String, defaultPort: Int? = ISCSIEndpoint.defaultPort, allowsPortZero: Bool = false) throws(ISCSIAddressError) {
        try self.init(parsing: Substring(text), input: text, defaultPort: defaultPort, allowsPortZero: allowsPortZero)
    }

    /// Parses `text`, reporting errors against `input` (a whole URL, already redacted).
    init(parsing text: Substring, input: String, defaultPort: Int?, allowsPortZero: Bool) throws(ISCSIAddressError) {
        func bad(_ part: ISCSIAddressError.Part, _ reason: String) -> ISCSIAddressError {
            ISCSIAddressError(input: input, part: part, reason: reason)
        }
        let host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw bad(.host, "the IPv6 address lacks its ']'") }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw bad(.host, "unexpected '\(rest)' after the IPv6 address") }
                portText = rest.dropFirst()
            }
            // An optional zone follows "%" (RFC 6874), e.g. fe80::1%eth0.
            let parts = host.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false)
            let zoneIsValid = parts.count == 1
                || (!parts[1].isEmpty && parts[1].allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." })
            guard !parts[0].isEmpty, parts[0].allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }), zoneIsValid else {
                throw bad(.host, "'\(host)' is not an IPv6 address")
            }
        } else {
            let colons = text.filter { $0 == ":" }.count
            guard colons <= 1 else { throw bad(.host, "an IPv6 address must be written in brackets, as [\(text)]") }
            if let colon = text.firstIndex(of: ":") {
                host = text[..<colon]
                portText = text[text.index(after: colon)...]
            } else {
                host = text
            }
            guard !host.isEmpty else { throw bad(.host, "the host is empty") }
            guard host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" }) else {
                throw bad(.host, "'\(host)' is not a host name or IPv4 address")
            }
        }
        let lowest = allowsPortZero ? 0 : 1
        if let portText {
            guard !portText.isEmpty, portText.allSatisfy({ $0 >= "0" && $0 <= "9" }), let value = Int(portText), (lowest...65535).contains(value) else {
                throw bad(.port, "the port '\(portText)' is not a number from \(lowest) to 65535")
            }
            port = value
        } else {
            guard let defaultPort else { throw bad(.port, "no port; write HOST:PORT") }
            port = defaultPort
        }
        self.host = String(host)
    }

    /// "HOST:PORT", IPv6 addresses in brackets, as SendTargets writes it (RFC 7143 §13.8).
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
