// One target of a SendTargets answer (RFC 7143 §13.3, Appendix C): its name and the
// portals it can be reached at.

/// A target listed by SendTargets.
public struct DiscoveredTarget: Sendable, Hashable {
    public var name: String
    /// The portals listed for it, in the order given. Empty means the target is
    /// reached through the portal that answered the discovery (RFC 7143 §13.3).
    public var portals: [TargetPortal]

    public init(name: String, portals: [TargetPortal] = []) {
        self.name = name
        self.portals = portals
    }

    /// `portals`, or the discovery portal when the answer listed none.
    public func portals(defaultingTo discoveryPortal: TargetPortal) -> [TargetPortal] {
        portals.isEmpty ? [discoveryPortal] : portals
    }
}
