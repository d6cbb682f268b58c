// Everything one login needs (RFC 7143 §6.3, §11.12): names, session identity,
// sequence numbers, authentication, our operational offers and the time allowed.

import NIOCore

/// The inputs of a `LoginStateMachine`.
public struct LoginConfiguration: Sendable {
    public var initiatorName: String
    public var initiatorAlias: String?
    /// The target to log in to; nil logs in to a discovery session (SessionType=Discovery).
    public var targetName: String?
    /// The 6-byte ISID in the low 48 bits.
    public var isid: UInt64
    /// 0 for a new session; the session's TSIH to add or reinstate a connection.
    public var tsih: UInt16
    public var connectionID: UInt16
    /// Every Login Request carries it; login PDUs are immediate and do not advance it.
    public var initialCmdSN: UInt32
    public var initiatorTaskTag: UInt32
    /// ExpStatSN of the first request; later ones acknowledge the target's StatSN.
    public var initialExpStatSN: UInt32
    public var authentication: LoginAuthentication
    public var proposal: OperationalProposal
    /// The whole login must finish within this (open-iscsi's default is 15 s).
    public var timeout: TimeAmount
    /// Largest data segment we send during login: until login completes neither side
    /// may assume more than the 8192-byte default of MaxRecvDataSegmentLength (§13.12).
    public var maximumSegmentLength: Int
    /// Login Requests we send before giving up on a target that never finishes.
    public var maximumRequests: Int

    public init(
        initiatorName: String,
        initiatorAlias: String? = nil,
        targetName: String?,
        isid: UInt64,
        tsih: UInt16 = 0,
        connectionID: UInt16 = 0,
        initialCmdSN: UInt32 = 1,
        initiatorTaskTag: UInt32 = 0,
        initialExpStatSN: UInt32 = 0,
        authentication: LoginAuthentication = .none,
        proposal: OperationalProposal = OperationalProposal(),
        timeout: TimeAmount = .seconds(15),
        maximumSegmentLength: Int = 8192,
        maximumRequests: Int = 64
    ) {
        self.initiatorName = initiatorName
        self.initiatorAlias = initiatorAlias
        self.targetName = targetName
        self.isid = isid
        self.tsih = tsih
        self.connectionID = connectionID
        self.initialCmdSN = initialCmdSN
        self.initiatorTaskTag = initiatorTaskTag
        self.initialExpStatSN = initialExpStatSN
        self.authentication = authentication
        self.proposal = proposal
        self.timeout = timeout
        self.maximumSegmentLength = maximumSegmentLength
        self.maximumRequests = maximumRequests
    }

    public var sessionType: SessionType { targetName == nil ? .discovery : .normal }

    /// How messages name the target.
    var targetLabel: String { targetName ?? "discovery session" }
}
