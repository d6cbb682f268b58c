// What a logical unit answered to one command, as the connection needs it to build
// Data-In and the SCSI Response.

import NIOCore
import VSCSI

/// Status, sense and data of a finished command.
struct TargetCommandOutcome: Sendable, Equatable {
    var status: UInt8
    var sense: [UInt8]
    var dataIn: ByteBuffer
    /// Bytes the command wanted to move, for the residual (RFC 7143 §11.4.5).
    var transferLength: Int

    init(status: UInt8, sense: [UInt8] = [], dataIn: ByteBuffer = ByteBuffer(), transferLength: Int) {
        self.status = status
        self.sense = sense
        self.dataIn = dataIn
        self.transferLength = transferLength
    }

    /// A logical unit's response; `transferLength`, when given, replaces the unit's for the
    /// residual (a write fitted to its Data-Out counts from what its CDB wanted).
    init(_ response: SCSICommandResponse, transferLength: Int? = nil) {
        self.init(status: response.status.rawValue, sense: response.sense, dataIn: response.dataIn, transferLength: transferLength ?? response.transferLength)
    }
}
