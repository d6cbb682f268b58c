// One of a path lab's two links: a veth pair from the host namespace to the target namespace,
// a /24 of its own, and the routing table that sends the shared portal's traffic over it.

public struct PathLabLink: Hashable, Sendable, CustomStringConvertible {
    /// 0 or 1.
    public let index: Int
    /// The host namespace's end ("nic0"): the initiator's network card.
    public let hostInterface: String
    /// The target namespace's end ("tgt0"): the array's port.
    public let targetInterface: String
    /// The host's address on this link, the source address that binds a path to it.
    public let hostAddress: String
    /// The target's address on this link, where its portal for this link listens.
    public let targetAddress: String
    /// The host's policy-routing table for traffic from `hostAddress` to the shared portal.
    public let routingTable: Int

    /// Private addresses no test machine is likely to route: 10.231.<index>.0/24, the target at
    /// .1, the host at .2. Every lab has namespaces of its own, so labs never see each other's.
    init(index: Int) {
        self.index = index
        hostInterface = "nic\(index)"
        targetInterface = "tgt\(index)"
        hostAddress = "10.231.\(index).2"
        targetAddress = "10.231.\(index).1"
        routingTable = 100 + index
    }

    public static let prefixLength = 24

    public var description: String {
        "link \(index) (\(hostInterface) \(hostAddress) ↔ \(targetInterface) \(targetAddress))"
    }
}
