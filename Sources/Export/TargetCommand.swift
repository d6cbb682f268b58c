// One SCSI command whose data has all arrived, as the connection hands it to a logical unit.

import NIOCore

/// What to execute, on which LUN, with which data.
struct TargetCommand: Sendable, Equatable {
    var initiatorTaskTag: UInt32
    /// The 8-byte LUN field as the initiator sent it.
    var lun: UInt64
    var cdb: [UInt8]
    var dataOut: ByteBuffer
    /// How much Data-In the initiator expects (its EDTL for a read).
    var expectedDataInLength: Int
}
