// What a LUN reports to its owner: its session's events, its own recovery, and the unit
// attentions its commands met.

import SCSI

/// An event of an `ISCSILUN` that owns its session.
public enum ISCSILUNEvent: Sendable, Equatable {
    /// Something the target reported on the current session.
    case session(ISCSISessionEvent)
    /// A step of session recovery: lost, an attempt failed, reconnected, failed for good.
    case recovery(RecoveryEvent)
    /// A command of this LUN ended in UNIT ATTENTION with this sense and was sent again:
    /// the target reported a change (an ALUA state, capacity, a reset, reservations preempted).
    case unitAttention(SenseData)
}
