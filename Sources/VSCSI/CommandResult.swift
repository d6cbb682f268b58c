// What a command handler returns when it did not fail: status and Data-In.

import NIOCore
import SCSI

struct CommandResult: Sendable {
    var status: SCSIStatus = .good
    /// Everything the command could return; cut to `allocationLength` afterwards.
    var data = ByteBuffer()
    /// The CDB's ALLOCATION LENGTH, for commands that have one.
    var allocationLength: Int?
    /// Bytes of Data-Out the command asked for (for residuals on writes).
    var dataOutLength = 0

    static let good = CommandResult()

    static func data(_ bytes: [UInt8], allocationLength: Int) -> CommandResult {
        CommandResult(data: ByteBuffer(bytes: bytes), allocationLength: allocationLength)
    }
}
