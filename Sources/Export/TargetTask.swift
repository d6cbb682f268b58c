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

/// Data-Out bookkeeping of one write (RFC 7143 §11.7, §11.8), with DataPDUInOrder and
/// DataSequenceInOrder both Yes: every byte arrives at the offset after the last.
struct WriteReception {
    /// One R2T not yet fully answered.
    struct Solicitation: Equatable {
        var targetTransferTag: UInt32
        var offset: Int
        var length: Int
        var received: Int
        var nextDataSN: UInt32
    }

    /// The EDTL: everything the initiator will send.
    let expectedLength: Int
    /// What arrived so far; it grows with the data, nothing is reserved ahead of it.
    var data: ByteBuffer
    /// When data last arrived (or the command, before any): the data-phase timeout runs from here.
    var lastProgress: NIODeadline
    /// Unsolicited Data-Out may still come (the command's F bit was clear).
    var unsolicitedOpen: Bool
    /// Immediate plus unsolicited data may not pass this (FirstBurstLength, EDTL).
    let unsolicitedLimit: Int
    var unsolicitedDataSN: UInt32 = 0
    /// Where the next R2T will start.
    var nextR2TOffset: Int
    var nextR2TSN: UInt32 = 0
    var outstanding: [Solicitation] = []

    var received: Int { data.readableBytes }
    var isComplete: Bool { received == expectedLength }
}
