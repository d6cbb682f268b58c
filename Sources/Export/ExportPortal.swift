// One listening address of an export ("HOST:PORT", IPv6 in brackets).

/// A host and port to listen on.
public struct ExportPortal: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses "HOST:PORT" or "[V6]:PORT"; the port defaults to 3260.
    public init?(parsing text: String) {
        var host = Substring(text)
        var port = 3260
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let number = Int(rest.dropFirst()) else { return nil }
                port = number
            }
        } else if let colon = host.lastIndex(of: ":") {
            guard let number = Int(host[host.index(after: colon)...]) else { return nil }
            port = number
            host = host[..<colon]
        }
        guard !host.isEmpty, (0...65535).contains(port) else { return nil }
        self.host = String(host)
        self.port = port
    }

    /// As SendTargets writes it: "HOST:PORT", IPv6 addresses in brackets (RFC 7143 §13.8).
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
