// The Data-Out bookkeeping of one write on a target connection: immediate, unsolicited
// and R2T-solicited data, each checked against the sequence it belongs to.

import NIOCore

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
