// What a LUN reports to its owner: its session's events and its own recovery.

/// An event of an `ISCSILUN` that owns its session.
public enum ISCSILUNEvent: Sendable, Equatable {
    /// Something the target reported on the current session.
    case session(ISCSISessionEvent)
    /// A step of session recovery: lost, an attempt failed, reconnected, failed for good.
    case recovery(RecoveryEvent)
}
