// A target's network address: host and TCP port (RFC 7143 §13.9 TargetAddress).

/// Where a target listens.
public struct ISCSIPortal: Sendable, Hashable, CustomStringConvertible {
    /// The IANA-assigned iSCSI port.
    public static let defaultPort = 3260

    public var host: String
    public var port: Int

    public init(host: String, port: Int = ISCSIPortal.defaultPort) {
        self.host = host
        self.port = port
    }

    /// Parses `host`, `host:port`, `[v6]` or `[v6]:port`.
    public init(parsing text: String) throws(ISCSIError) {
        func bad(_ why: String) -> ISCSIError {
            ISCSIError(.invalidArgument, scope: .session, "portal '\(text)' is not valid: \(why)")
        }
        var host = Substring(text)
        var port = ISCSIPortal.defaultPort
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw bad("missing ']' after an IPv6 address") }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let value = Int(rest.dropFirst()) else { throw bad("expected ':PORT' after ']'") }
                port = value
            }
        } else if let colon = host.lastIndex(of: ":") {
            guard host.firstIndex(of: ":") == colon else { throw bad("an IPv6 address must be written in brackets") }
            guard let value = Int(host[host.index(after: colon)...]) else { throw bad("the port is not a number") }
            port = value
            host = host[..<colon]
        }
        guard !host.isEmpty else { throw bad("the host is empty") }
        guard (1...65535).contains(port) else { throw bad("port \(port) is outside 1...65535") }
        self.host = String(host)
        self.port = port
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
