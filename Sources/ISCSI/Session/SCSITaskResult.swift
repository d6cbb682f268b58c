// What a completed SCSI command returns: status, sense, residual and data.

import NIOCore

/// The outcome of a SCSI command that reached the target and got a status back.
///
/// Transport failures never produce a result; they throw `ISCSIError`. A CHECK
/// CONDITION is a result, with `senseData` holding what the target said.
public struct SCSITaskResult: Sendable, Equatable {
    /// How the amount of data moved differed from what the command expected.
    public enum Residual: Sendable, Equatable {
        case none
        /// The target moved this many bytes fewer than expected.
        case underflow(Int)
        /// The target had this many bytes more than expected (they were not sent).
        case overflow(Int)
    }

    /// The SCSI status byte.
    public var status: UInt8
    /// Raw sense data (fixed or descriptor format), empty when none came.
    public var senseData: [UInt8]
    public var residual: Residual
    /// Data read back (Data-In), exactly as many bytes as arrived.
    public var data: ByteBuffer

    public init(status: UInt8, senseData: [UInt8] = [], residual: Residual = .none, data: ByteBuffer = ByteBuffer()) {
        self.status = status
        self.senseData = senseData
        self.residual = residual
        self.data = data
    }

    /// True for GOOD and CONDITION MET.
    public var isGood: Bool { status == 0x00 || status == 0x04 }
}
