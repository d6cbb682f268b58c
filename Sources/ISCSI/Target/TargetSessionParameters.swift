// The outcome of a login as the target sees it: what each direction may send in
// full feature phase (RFC 7143 §13), named from the target's side.

/// Values agreed with one initiator.
public struct TargetSessionParameters: Sendable, Hashable {
    public var headerDigest: NegotiatedDigest = .none
    public var dataDigest: NegotiatedDigest = .none
    /// Longest data segment the initiator may send us (our declaration).
    public var ourMaxRecvDataSegmentLength: Int = 8192
    /// Longest data segment we may send the initiator (its declaration, 8192 if silent).
    public var initiatorMaxRecvDataSegmentLength: Int = 8192
    public var maxBurstLength: Int = 262_144
    public var firstBurstLength: Int = 65536
    public var immediateData: Bool = true
    public var initialR2T: Bool = true
    public var maxOutstandingR2T: Int = 1
    public var maxConnections: Int = 1
    public var defaultTime2Wait: Int = 2
    public var defaultTime2Retain: Int = 20
    public var dataPDUInOrder: Bool = true
    public var dataSequenceInOrder: Bool = true
    public var errorRecoveryLevel: Int = 0

    public init() {}
}
