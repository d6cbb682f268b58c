// The values a target brings to operational negotiation (RFC 7143 §13): combined
// with the initiator's offers by each key's result function.

/// What this target is willing to do; the negotiated result never exceeds it.
public struct TargetOperationalLimits: Sendable, Hashable {
    /// Longest data segment we accept (declared to the initiator, §13.12).
    public var maxRecvDataSegmentLength: Int
    public var maxBurstLength: Int
    public var firstBurstLength: Int
    public var maxOutstandingR2T: Int
    /// Digests we accept, in our order of preference when the initiator lists several.
    public var digests: [NegotiatedDigest]
    /// Whether we accept immediate data (the result is the AND of both sides).
    public var immediateData: Bool
    /// Whether we insist on an R2T before any data (the result is the OR of both sides).
    public var initialR2T: Bool

    public init(
        maxRecvDataSegmentLength: Int = 262_144,
        maxBurstLength: Int = 1_048_576,
        firstBurstLength: Int = 262_144,
        maxOutstandingR2T: Int = 8,
        digests: [NegotiatedDigest] = [.crc32c, .none],
        immediateData: Bool = true,
        initialR2T: Bool = false
    ) {
        self.maxRecvDataSegmentLength = maxRecvDataSegmentLength
        self.maxBurstLength = maxBurstLength
        self.firstBurstLength = firstBurstLength
        self.maxOutstandingR2T = maxOutstandingR2T
        self.digests = digests
        self.immediateData = immediateData
        self.initialR2T = initialR2T
    }
}
