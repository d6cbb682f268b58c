// One task a target connection holds: a SCSI command from its arrival, through the
// Data-Out it waits for (immediate, unsolicited, solicited by R2T), to its response.

import NIOCore

/// A SCSI command in progress on one connection.
struct TargetTask {
    enum Phase: Equatable {
        /// Waiting for Data-Out.
        case receiving
        /// Handed to the logical unit.
        case executing
        /// Handed to the unit, then aborted: its response is dropped when it comes.
        case aborted
    }

    var lun: UInt64
    var cdb: [UInt8]
    var cmdSN: UInt32
    /// Sent with the I bit: counted apart from the CmdSN window.
    var immediate: Bool
    var expectedDataInLength: Int
    var phase: Phase
    var write: WriteReception?
    /// Write-budget bytes this task holds (see `ExportWriteBudget`), given back when it ends.
    var bufferCharge = 0
}
