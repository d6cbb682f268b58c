// One TCP connection tgtd holds in a path lab, as the target namespace's kernel lists it: which
// portal it reached and from which host address, so a test can tell which path a session took.

public struct PathLabConnection: Hashable, Sendable, CustomStringConvertible {
    /// The portal the initiator connected to.
    public let portal: Portal
    /// The initiator's address and port, as the target sees them.
    public let hostAddress: String
    public let hostPort: Int

    public init(portal: Portal, hostAddress: String, hostPort: Int) {
        self.portal = portal
        self.hostAddress = hostAddress
        self.hostPort = hostPort
    }

    public var description: String {
        "\(hostAddress):\(hostPort) → \(portal)"
    }
}
