// Text Request PDU, opcode 0x04 (RFC 7143 §11.10).

import NIOCore

public struct TextRequest: Sendable, Equatable {
    public var immediate: Bool
    public var final: Bool
    public var `continue`: Bool
    public var lun: UInt64
    public var initiatorTaskTag: UInt32
    /// `reservedTag` to start; the target's tag to continue a long answer.
    public var targetTransferTag: UInt32
    public var cmdSN: UInt32
    public var expStatSN: UInt32
    public var data: ByteBuffer

    public init(
        immediate: Bool = true,
        final: Bool = true,
        continue: Bool = false,
        lun: UInt64 = 0,
        initiatorTaskTag: UInt32,
        targetTransferTag: UInt32 = reservedTag,
        cmdSN: UInt32,
        expStatSN: UInt32,
        data: ByteBuffer
    ) {
        self.immediate = immediate
        self.final = final
        self.continue = `continue`
        self.lun = lun
        self.initiatorTaskTag = initiatorTaskTag
        self.targetTransferTag = targetTransferTag
        self.cmdSN = cmdSN
        self.expStatSN = expStatSN
        self.data = data
    }
}
