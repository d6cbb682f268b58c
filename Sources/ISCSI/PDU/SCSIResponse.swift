// SCSI Response PDU, opcode 0x21 (RFC 7143 §11.4).

import NIOCore

/// The Response field of a SCSI Response (§11.4.3).
public enum ISCSIServiceResponse: UInt8, Sendable, Hashable {
    case commandCompleted = 0x00
    case targetFailure = 0x01
}

public struct SCSIResponse: Sendable, Equatable {
    /// o bit: bidirectional read residual overflow.
    public var bidirectionalOverflow: Bool
    /// u bit: bidirectional read residual underflow.
    public var bidirectionalUnderflow: Bool
    /// O bit: residual overflow (the target had more data than expected).
    public var residualOverflow: Bool
    /// U bit: residual underflow (the target moved less data than expected).
    public var residualUnderflow: Bool
    /// Raw Response byte; `ISCSIServiceResponse` names the defined values.
    public var response: UInt8
    /// SCSI status byte (valid when response is command completed).
    public var status: UInt8
    public var initiatorTaskTag: UInt32
    public var snackTag: UInt32
    public var statSN: UInt32
    public var expCmdSN: UInt32
    public var maxCmdSN: UInt32
    public var expDataSN: UInt32
    public var bidirectionalReadResidualCount: UInt32
    public var residualCount: UInt32
    /// Data segment: a 2-byte SenseLength, then sense data, then response data (§11.4.7).
    public var data: ByteBuffer

    public init(
        bidirectionalOverflow: Bool = false,
        bidirectionalUnderflow: Bool = false,
        residualOverflow: Bool = false,
        residualUnderflow: Bool = false,
        response: UInt8 = ISCSIServiceResponse.commandCompleted.rawValue,
        status: UInt8,
        initiatorTaskTag: UInt32,
        snackTag: UInt32 = 0,
        statSN: UInt32,
        expCmdSN: UInt32,
        maxCmdSN: UInt32,
        expDataSN: UInt32 = 0,
        bidirectionalReadResidualCount: UInt32 = 0,
        residualCount: UInt32 = 0,
        data: ByteBuffer = ByteBuffer()
    ) {
        self.bidirectionalOverflow = bidirectionalOverflow
        self.bidirectionalUnderflow = bidirectionalUnderflow
        self.residualOverflow = residualOverflow
        self.residualUnderflow = residualUnderflow
        self.response = response
        self.status = status
        self.initiatorTaskTag = initiatorTaskTag
        self.snackTag = snackTag
        self.statSN = statSN
        self.expCmdSN = expCmdSN
        self.maxCmdSN = maxCmdSN
        self.expDataSN = expDataSN
        self.bidirectionalReadResidualCount = bidirectionalReadResidualCount
        self.residualCount = residualCount
        self.data = data
    }
}
