// The Data-Out PDUs of one unsolicited burst or one R2T's answer, cut lazily from the write's buffer.

import NIOCore

/// A run of Data-Out PDUs for one command (RFC 7143 §11.7), produced one at a time.
///
/// Each PDU's data is a slice of the command's buffer: nothing is copied, and
/// nothing is allocated until the handler asks for the next PDU.
struct DataOutBurst: Sequence, IteratorProtocol {
    /// The command's whole write buffer; segment offsets count from its reader index.
    let data: ByteBuffer
    let lun: UInt64
    let initiatorTaskTag: UInt32
    let expStatSN: UInt32
    private(set) var segments: DataOutSequence

    init(data: ByteBuffer, lun: UInt64, initiatorTaskTag: UInt32, expStatSN: UInt32, segments: DataOutSequence) {
        self.data = data
        self.lun = lun
        self.initiatorTaskTag = initiatorTaskTag
        self.expStatSN = expStatSN
        self.segments = segments
    }

    mutating func next() -> ISCSIPDU? {
        guard let segment = segments.next() else { return nil }
        return .dataOut(DataOut(
            final: segment.final,
            lun: ISCSIPDU.encodeLUN(lun),
            initiatorTaskTag: initiatorTaskTag,
            targetTransferTag: segment.targetTransferTag,
            expStatSN: expStatSN,
            dataSN: segment.dataSN,
            bufferOffset: UInt32(segment.bufferOffset),
            data: data.getSlice(at: data.readerIndex + segment.bufferOffset, length: segment.length)!
        ))
    }
}
