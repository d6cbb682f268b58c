// Where one path of a LUN stands.

/// The state of one path, as `vdiskctl paths` shows it.
public enum PathState: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Open and used for I/O by the policy.
    case active
    /// Open, but its target port group is in an ALUA state that takes no I/O (standby,
    /// unavailable, transitioning): kept for when the group becomes active.
    case standby
    /// Not open: lost, refused, or not yet reached. The prober tries to open it again.
    case dead
    /// Taken out of service by the operator; neither used nor probed until enabled.
    case disabled

    public var description: String { rawValue }
}
