// The outcome of operational negotiation (RFC 7143 §13): what the session and its
// connection must obey in full feature phase.

/// Values agreed with the target during login.
///
/// Lengths are in bytes, times in seconds. Keys the target never answered hold the
/// value a compliant target with RFC defaults would have agreed to.
public struct NegotiatedParameters: Sendable, Equatable {
    public var headerDigest: NegotiatedDigest
    public var dataDigest: NegotiatedDigest
    /// What we declared: the longest data segment the target may send us.
    public var maxRecvDataSegmentLength: Int
    /// What the target declared: the longest data segment we may send (8192 if it never said).
    public var targetMaxRecvDataSegmentLength: Int
    public var maxBurstLength: Int
    /// Meaningless (and not checked against `maxBurstLength`) when
    /// `initialR2T` is true and `immediateData` is false (RFC 7143 §13.14).
    public var firstBurstLength: Int
    public var immediateData: Bool
    public var initialR2T: Bool
    public var maxOutstandingR2T: Int
    public var maxConnections: Int
    public var defaultTime2Wait: Int
    public var defaultTime2Retain: Int
    public var dataPDUInOrder: Bool
    public var dataSequenceInOrder: Bool
    public var errorRecoveryLevel: Int
    public var targetAlias: String?
    public var targetPortalGroupTag: UInt16?
    /// iSCSIProtocolLevel (RFC 7144): 0 unless both sides agreed on more.
    public var protocolLevel: Int

    /// RFC 7143 defaults for every key; the starting point of a negotiation.
    public init(
        headerDigest: NegotiatedDigest = .none,
        dataDigest: NegotiatedDigest = .none,
        maxRecvDataSegmentLength: Int = 8192,
        targetMaxRecvDataSegmentLength: Int = 8192,
        maxBurstLength: Int = 262_144,
        firstBurstLength: Int = 65536,
        immediateData: Bool = true,
        initialR2T: Bool = true,
        maxOutstandingR2T: Int = 1,
        maxConnections: Int = 1,
        defaultTime2Wait: Int = 2,
        defaultTime2Retain: Int = 20,
        dataPDUInOrder: Bool = true,
        dataSequenceInOrder: Bool = true,
        errorRecoveryLevel: Int = 0,
        targetAlias: String? = nil,
        targetPortalGroupTag: UInt16? = nil,
        protocolLevel: Int = 0
    ) {
        self.headerDigest = headerDigest
        self.dataDigest = dataDigest
        self.maxRecvDataSegmentLength = maxRecvDataSegmentLength
        self.targetMaxRecvDataSegmentLength = targetMaxRecvDataSegmentLength
        self.maxBurstLength = maxBurstLength
        self.firstBurstLength = firstBurstLength
        self.immediateData = immediateData
        self.initialR2T = initialR2T
        self.maxOutstandingR2T = maxOutstandingR2T
        self.maxConnections = maxConnections
        self.defaultTime2Wait = defaultTime2Wait
        self.defaultTime2Retain = defaultTime2Retain
        self.dataPDUInOrder = dataPDUInOrder
        self.dataSequenceInOrder = dataSequenceInOrder
        self.errorRecoveryLevel = errorRecoveryLevel
        self.targetAlias = targetAlias
        self.targetPortalGroupTag = targetPortalGroupTag
        self.protocolLevel = protocolLevel
    }

    /// True when FirstBurstLength has no meaning (RFC 7143 §13.14).
    public var firstBurstLengthIsIrrelevant: Bool { initialR2T && !immediateData }
}
