// NOP-Out PDU, opcode 0x00 (RFC 7143 §11.18).

import NIOCore

public struct NOPOut: Sendable, Equatable {
    public var immediate: Bool
    public var lun: UInt64
    /// `reservedTag` when answering a NOP-In (no reply wanted); a real tag for a ping.
    public var initiatorTaskTag: UInt32
    /// The NOP-In's Target Transfer Tag when answering one, else `reservedTag`.
    public var targetTransferTag: UInt32
    public var cmdSN: UInt32
    public var expStatSN: UInt32
    /// Ping data, echoed by the target.
    public var data: ByteBuffer

    public init(
        immediate: Bool = true,
        lun: UInt64 = 0,
        initiatorTaskTag: UInt32,
        targetTransferTag: UInt32 = reservedTag,
        cmdSN: UInt32,
        expStatSN: UInt32,
        data: ByteBuffer = ByteBuffer()
    ) {
        self.immediate = immediate
        self.lun = lun
        self.initiatorTaskTag = initiatorTaskTag
        self.targetTransferTag = targetTransferTag
        self.cmdSN = cmdSN
        self.expStatSN = expStatSN
        self.data = data
    }
}
