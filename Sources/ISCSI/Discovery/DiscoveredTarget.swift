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

    /// Where to log in, best first, after discovering through `dialled`: the portal that
    /// answered comes first, then the listed portals it is not.
    ///
    /// A target lists addresses as it sees them. Behind NAT or port forwarding that is an
    /// address the initiator cannot reach: LIO with a wildcard portal lists the address the
    /// discovery connection arrived on (a QEMU guest's own 10.0.2.15:3260 when reached through
    /// a forwarded 127.0.0.1 port). The portal we dialled is known to reach the target's
    /// network entity, so it is tried first; the tag of a listed portal on the same port is kept.
    public func loginPortals(dialled: TargetPortal) -> [TargetPortal] {
        var first = TargetPortal(host: dialled.host, port: dialled.port, portalGroupTag: dialled.portalGroupTag)
        if first.portalGroupTag == nil {
            first.portalGroupTag = portals.first { $0.port == dialled.port }?.portalGroupTag ?? portals.first?.portalGroupTag
        }
        var result = [first]
        for portal in portals where !(portal.host == dialled.host && portal.port == dialled.port) {
            result.append(portal)
        }
        return result
    }
}
