// What a logical unit answers to one command: status, sense and Data-In.

import NIOCore
import SCSI

/// The outcome of one command.
public struct SCSICommandResponse: Sendable {
    public var status: SCSIStatus
    /// Sense data bytes with CHECK CONDITION, in the format the Control mode page's
    /// D_SENSE selects; empty otherwise.
    public var sense: [UInt8]
    /// Data-In, already cut to the allocation length and the expected length.
    public var dataIn: ByteBuffer
    /// How many bytes the command wanted to move (Data-In for reads, Data-Out for
    /// writes), before any cut to the expected length: residuals are computed from it.
    public var transferLength: Int

    public init(status: SCSIStatus, sense: [UInt8] = [], dataIn: ByteBuffer = ByteBuffer(), transferLength: Int = 0) {
        self.status = status
        self.sense = sense
        self.dataIn = dataIn
        self.transferLength = transferLength
    }

    /// The sense data decoded, for logs and tests; nil without sense or when it does not parse.
    public var senseData: SenseData? {
        sense.isEmpty ? nil : try? SenseData(parsing: sense)
    }
}
