// SCSI Data-In PDU, opcode 0x25 (RFC 7143 §11.7).

import NIOCore

public struct DataIn: Sendable, Equatable {
    public var final: Bool
    /// A bit: the target asks for a DataACK SNACK (ERL > 0 only).
    public var acknowledge: Bool
    public var residualOverflow: Bool
    public var residualUnderflow: Bool
    /// S bit: status is present (phase collapse); implies `final`.
    public var statusPresent: Bool
    /// SCSI status, meaningful only with `statusPresent`.
    public var status: UInt8
    public var lun: UInt64
    public var initiatorTaskTag: UInt32
    public var targetTransferTag: UInt32
    /// StatSN, meaningful only with `statusPresent`.
    public var statSN: UInt32
    public var expCmdSN: UInt32
    public var maxCmdSN: UInt32
    public var dataSN: UInt32
    public var bufferOffset: UInt32
    public var residualCount: UInt32
    public var data: ByteBuffer

    public init(
        final: Bool,
        acknowledge: Bool = false,
        residualOverflow: Bool = false,
        residualUnderflow: Bool = false,
        statusPresent: Bool = false,
        status: UInt8 = 0,
        lun: UInt64 = 0,
        initiatorTaskTag: UInt32,
        targetTransferTag: UInt32 = reservedTag,
        statSN: UInt32 = 0,
        expCmdSN: UInt32,
        maxCmdSN: UInt32,
        dataSN: UInt32,
        bufferOffset: UInt32,
        residualCount: UInt32 = 0,
        data: ByteBuffer
    ) {
        self.final = final
        self.acknowledge = acknowledge
        self.residualOverflow = residualOverflow
        self.residualUnderflow = residualUnderflow
        self.statusPresent = statusPresent
        self.status = status
        self.lun = lun
        self.initiatorTaskTag = initiatorTaskTag
        self.targetTransferTag = targetTransferTag
        self.statSN = statSN
        self.expCmdSN = expCmdSN
        self.maxCmdSN = maxCmdSN
        self.dataSN = dataSN
        self.bufferOffset = bufferOffset
        self.residualCount = residualCount
        self.data = data
    }
}
