// NOP-In PDU, opcode 0x20 (RFC 7143 §11.19).

import NIOCore

public struct NOPIn: Sendable, Equatable {
    public var lun: UInt64
    /// The NOP-Out's tag when this answers a ping; `reservedTag` when the target pings.
    public var initiatorTaskTag: UInt32
    /// Not `reservedTag` when the target wants a NOP-Out back.
    public var targetTransferTag: UInt32
    public var statSN: UInt32
    public var expCmdSN: UInt32
    public var maxCmdSN: UInt32
    public var data: ByteBuffer

    public init(
        lun: UInt64 = 0,
        initiatorTaskTag: UInt32,
        targetTransferTag: UInt32 = reservedTag,
        statSN: UInt32,
        expCmdSN: UInt32,
        maxCmdSN: UInt32,
        data: ByteBuffer = ByteBuffer()
    ) {
        self.lun = lun
        self.initiatorTaskTag = initiatorTaskTag
        self.targetTransferTag = targetTransferTag
        self.statSN = statSN
        self.expCmdSN = expCmdSN
        self.maxCmdSN = maxCmdSN
        self.data = data
    }
}
