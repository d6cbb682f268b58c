// Text Response PDU, opcode 0x24 (RFC 7143 §11.11).

import NIOCore

public struct TextResponse: Sendable, Equatable {
    public var final: Bool
    public var `continue`: Bool
    public var lun: UInt64
    public var initiatorTaskTag: UInt32
    /// Not `reservedTag` while the target has more to send.
    public var targetTransferTag: UInt32
    public var statSN: UInt32
    public var expCmdSN: UInt32
    public var maxCmdSN: UInt32
    public var data: ByteBuffer

    public init(
        final: Bool,
        continue: Bool = false,
        lun: UInt64 = 0,
        initiatorTaskTag: UInt32,
        targetTransferTag: UInt32 = reservedTag,
        statSN: UInt32,
        expCmdSN: UInt32,
        maxCmdSN: UInt32,
        data: ByteBuffer
    ) {
        self.final = final
        self.continue = `continue`
        self.lun = lun
        self.initiatorTaskTag = initiatorTaskTag
        self.targetTransferTag = targetTransferTag
        self.statSN = statSN
        self.expCmdSN = expCmdSN
        self.maxCmdSN = maxCmdSN
        self.data = data
    }
}
