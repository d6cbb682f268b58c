// Where a tgtd runs when not on 127.0.0.1 of the test process's own network namespace: inside
// another network namespace (`ip netns exec`), listening on several addresses on one port.

public struct TgtNetworkPlacement: Hashable, Sendable {
    /// The network namespace tgtd runs in (as `ip netns list` names it).
    public var namespace: String
    /// The addresses tgtd listens on, one portal each, all on `port`. The first is `TgtTarget.portal`.
    public var addresses: [String]
    /// The namespace is the test's own, so nothing else can hold the port.
    public var port: Int

    public init(namespace: String, addresses: [String], port: Int = 3260) {
        self.namespace = namespace
        self.addresses = addresses
        self.port = port
    }

    /// The portals tgtd serves, in `addresses` order.
    public var portals: [Portal] {
        addresses.map { Portal(host: $0, port: port) }
    }

    func validate() throws(TestSupportError) {
        guard !namespace.isEmpty, !addresses.isEmpty else {
            throw TestSupportError(.invalidConfiguration, "a tgtd placed in a network namespace needs the namespace's name and at least one address to listen on")
        }
        guard Set(addresses).count == addresses.count else {
            throw TestSupportError(.invalidConfiguration, "tgtd in \(namespace) is given the address list \(addresses) with an address twice; tgtd cannot bind one portal twice")
        }
        for address in addresses {
            let octets = address.split(separator: ".", omittingEmptySubsequences: false)
            guard octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) else {
                throw TestSupportError(.invalidConfiguration, "tgtd in \(namespace) is given the address \(address); it listens on dotted IPv4 addresses only (its readiness is read from /proc/PID/net/tcp)")
            }
        }
        guard (1...65535).contains(port) else {
            throw TestSupportError(.invalidConfiguration, "tgtd in \(namespace) is given port \(port), outside 1...65535")
        }
    }
}
