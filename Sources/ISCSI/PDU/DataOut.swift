// SCSI Data-Out PDU, opcode 0x05 (RFC 7143 §11.7).

import NIOCore

public struct DataOut: Sendable, Equatable {
    public var final: Bool
    public var lun: UInt64
    public var initiatorTaskTag: UInt32
    /// The R2T's Target Transfer Tag, or `reservedTag` for unsolicited data.
    public var targetTransferTag: UInt32
    public var expStatSN: UInt32
    public var dataSN: UInt32
    public var bufferOffset: UInt32
    public var data: ByteBuffer

    public init(
        final: Bool,
        lun: UInt64,
        initiatorTaskTag: UInt32,
        targetTransferTag: UInt32 = reservedTag,
        expStatSN: UInt32,
        dataSN: UInt32,
        bufferOffset: UInt32,
        data: ByteBuffer
    ) {
        self.final = final
        self.lun = lun
        self.initiatorTaskTag = initiatorTaskTag
        self.targetTransferTag = targetTransferTag
        self.expStatSN = expStatSN
        self.dataSN = dataSN
        self.bufferOffset = bufferOffset
        self.data = data
    }
}
