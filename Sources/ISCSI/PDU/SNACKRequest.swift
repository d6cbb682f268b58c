// SNACK Request PDU, opcode 0x10 (RFC 7143 §11.16). Used only at ErrorRecoveryLevel > 0.

public struct SNACKRequest: Sendable, Equatable {
    /// 0 Data/R2T, 1 Status, 2 DataACK, 3 R-Data (§11.16.1).
    public var type: UInt8
    public var lun: UInt64
    public var initiatorTaskTag: UInt32
    public var targetTransferTag: UInt32
    public var expStatSN: UInt32
    public var begRun: UInt32
    public var runLength: UInt32

    public init(
        type: UInt8,
        lun: UInt64 = 0,
        initiatorTaskTag: UInt32,
        targetTransferTag: UInt32 = reservedTag,
        expStatSN: UInt32,
        begRun: UInt32,
        runLength: UInt32
    ) {
        self.type = type
        self.lun = lun
        self.initiatorTaskTag = initiatorTaskTag
        self.targetTransferTag = targetTransferTag
        self.expStatSN = expStatSN
        self.begRun = begRun
        self.runLength = runLength
    }
}
