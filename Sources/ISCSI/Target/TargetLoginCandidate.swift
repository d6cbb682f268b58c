// A login that passed authentication and negotiation and now needs a session: the
// caller's session registry decides its TSIH (RFC 7143 §4.2.1, session reinstatement §6.3.5).

/// Who is asking for a session, and which one.
public struct TargetLoginCandidate: Sendable, Hashable {
    public var sessionType: SessionType
    public var initiatorName: String
    /// nil in a discovery session.
    public var targetName: String?
    public var isid: UInt64
    /// 0 for a new session (leading login), else the session the connection wants to join.
    public var requestedTSIH: UInt16
    public var connectionID: UInt16
}
