// Ready To Transfer (R2T) PDU, opcode 0x31 (RFC 7143 §11.8).

public struct ReadyToTransfer: Sendable, Equatable {
    public var lun: UInt64
    public var initiatorTaskTag: UInt32
    public var targetTransferTag: UInt32
    public var statSN: UInt32
    public var expCmdSN: UInt32
    public var maxCmdSN: UInt32
    public var r2tSN: UInt32
    public var bufferOffset: UInt32
    public var desiredDataTransferLength: UInt32

    public init(
        lun: UInt64 = 0,
        initiatorTaskTag: UInt32,
        targetTransferTag: UInt32,
        statSN: UInt32,
        expCmdSN: UInt32,
        maxCmdSN: UInt32,
        r2tSN: UInt32,
        bufferOffset: UInt32,
        desiredDataTransferLength: UInt32
    ) {
        self.lun = lun
        self.initiatorTaskTag = initiatorTaskTag
        self.targetTransferTag = targetTransferTag
        self.statSN = statSN
        self.expCmdSN = expCmdSN
        self.maxCmdSN = maxCmdSN
        self.r2tSN = r2tSN
        self.bufferOffset = bufferOffset
        self.desiredDataTransferLength = desiredDataTransferLength
    }
}
