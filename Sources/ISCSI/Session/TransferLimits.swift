// The negotiated numbers that shape how one connection moves data (RFC 7143 §13.10–§13.15).

/// Limits for data transfer, taken from the login's negotiated parameters.
public struct TransferLimits: Sendable, Equatable {
    public var immediateData: Bool
    public var initialR2T: Bool
    /// Most unsolicited bytes (immediate plus unsolicited Data-Out) per command.
    public var firstBurstLength: Int
    /// Most bytes one R2T may ask for, and one Data-In sequence may carry.
    public var maxBurstLength: Int
    /// The target's MaxRecvDataSegmentLength: the longest data segment we may send.
    public var maxSendDataSegmentLength: Int
    /// Our MaxRecvDataSegmentLength: the longest data segment we accept.
    public var maxRecvDataSegmentLength: Int
    public var maxOutstandingR2T: Int

    public init(
        immediateData: Bool,
        initialR2T: Bool,
        firstBurstLength: Int,
        maxBurstLength: Int,
        maxSendDataSegmentLength: Int,
        maxRecvDataSegmentLength: Int,
        maxOutstandingR2T: Int
    ) {
        self.immediateData = immediateData
        self.initialR2T = initialR2T
        self.firstBurstLength = firstBurstLength
        self.maxBurstLength = maxBurstLength
        self.maxSendDataSegmentLength = maxSendDataSegmentLength
        self.maxRecvDataSegmentLength = maxRecvDataSegmentLength
        self.maxOutstandingR2T = maxOutstandingR2T
    }

    /// RFC 7143's defaults, in force until a login negotiates otherwise.
    public static let rfcDefaults = TransferLimits(
        immediateData: true,
        initialR2T: true,
        firstBurstLength: 65536,
        maxBurstLength: 262_144,
        maxSendDataSegmentLength: 8192,
        maxRecvDataSegmentLength: 8192,
        maxOutstandingR2T: 1
    )
}
