// One Data-Out PDU's worth of a write: where in the buffer it starts and how long it is.

/// A piece of a write's data to send as one Data-Out PDU (RFC 7143 §11.7).
public struct DataOutSegment: Sendable, Equatable {
    public var bufferOffset: Int
    public var length: Int
    public var dataSN: UInt32
    /// F bit: the last PDU of this unsolicited burst or R2T sequence.
    public var final: Bool
    /// `reservedTag` for unsolicited data, else the R2T's tag.
    public var targetTransferTag: UInt32

    public init(bufferOffset: Int, length: Int, dataSN: UInt32, final: Bool, targetTransferTag: UInt32) {
        self.bufferOffset = bufferOffset
        self.length = length
        self.dataSN = dataSN
        self.final = final
        self.targetTransferTag = targetTransferTag
    }
}

/// Cuts `length` bytes starting at `offset` into Data-Out segments no longer than `maxSegment`.
public struct DataOutSequence: Sequence, IteratorProtocol, Sendable {
    private var offset: Int
    private let end: Int
    private let maxSegment: Int
    private let targetTransferTag: UInt32
    private var dataSN: UInt32 = 0

    public init(offset: Int, length: Int, maxSegment: Int, targetTransferTag: UInt32) {
        precondition(maxSegment > 0, "a data segment limit must be positive")
        self.offset = offset
        self.end = offset + length
        self.maxSegment = maxSegment
        self.targetTransferTag = targetTransferTag
    }

    public mutating func next() -> DataOutSegment? {
        guard offset < end else { return nil }
        let length = Swift.min(maxSegment, end - offset)
        let segment = DataOutSegment(
            bufferOffset: offset,
            length: length,
            dataSN: dataSN,
            final: offset + length == end,
            targetTransferTag: targetTransferTag
        )
        offset += length
        dataSN &+= 1
        return segment
    }
}
