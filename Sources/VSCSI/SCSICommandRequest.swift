// One SCSI command as the transport hands it to a logical unit.

import NIOCore

/// A command with its CDB, its Data-Out bytes and the nexus it came from.
public struct SCSICommandRequest: Sendable {
    /// The CDB; a transport may pad it with zeros (iSCSI carries 16 bytes), and
    /// only the command's own length is looked at.
    public var cdb: [UInt8]
    /// Every Data-Out byte received for the command (empty for a read).
    public var dataOut: ByteBuffer
    /// The initiator's expected Data-In transfer length; Data-In is cut to it.
    public var expectedDataInLength: Int
    public var nexus: Nexus

    public init(cdb: [UInt8], dataOut: ByteBuffer = ByteBuffer(), expectedDataInLength: Int, nexus: Nexus) {
        self.cdb = cdb
        self.dataOut = dataOut
        self.expectedDataInLength = expectedDataInLength
        self.nexus = nexus
    }
}
