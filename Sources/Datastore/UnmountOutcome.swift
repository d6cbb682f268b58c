// What an unmount did, so a fenced host can say what it cleaned up and what it left.

/// The end of a mount.
public enum UnmountOutcome: Sendable, Hashable, CustomStringConvertible {
    /// Locks released, slot freed, key dropped.
    case clean
    /// Fenced, but nobody had taken over: what was still this host's was released.
    case fencedCleanedUp(String)
    /// Fenced by another host's takeover: what it took over was left alone.
    case fencedLeftToTakeover(String)

    public var description: String {
        switch self {
        case .clean: "unmounted cleanly"
        case .fencedCleanedUp(let what): "fenced; cleaned up what was still its own: \(what)"
        case .fencedLeftToTakeover(let what): "fenced; left what another host took over: \(what)"
        }
    }
}
