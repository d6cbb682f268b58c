// Things a target tells a session outside any command's response (RFC 7143 §11.9).

/// An event a session reports to its owner.
public enum ISCSISessionEvent: Sendable, Equatable {
    /// A SCSI asynchronous event, usually a unit attention, with its raw sense data.
    case unitAttention(lun: UInt64, senseData: [UInt8])
    /// The target asked us to log out within this many seconds.
    case logoutRequested(withinSeconds: Int)
    /// The target announced it will drop this connection (or all of them).
    case connectionDropAnnounced(time2Wait: Int, time2Retain: Int)
    /// The target asked to renegotiate parameters; we keep the current ones.
    case renegotiationRequested
    /// The connection failed; commands in flight failed with this error.
    case connectionLost(ISCSIError)
}
