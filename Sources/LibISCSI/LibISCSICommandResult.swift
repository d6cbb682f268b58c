// What one SCSI command came back with through libiscsi, before the device
// decides whether that status is a success, a retry or an error.

import NIOCore
import SCSI

/// The SCSI outcome of a command that reached the target and got a status back.
struct LibISCSICommandResult: Sendable {
    var status: SCSIStatus
    /// Data-In bytes actually transferred (the expected length less any residual).
    var data: ByteBuffer
    /// Raw sense bytes (fixed or descriptor format), empty when none came.
    var sense: [UInt8]

    var isGood: Bool { status.isSuccess }
}
