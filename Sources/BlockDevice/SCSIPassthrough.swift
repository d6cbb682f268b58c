// Raw SCSI commands on a block device with a SCSI logical unit behind it (an iSCSI
// LUN on either engine): for tools such as `vdiskctl target inquiry`, not the data path.

import NIOCore

/// A block device that can send a CDB of the caller's choosing.
public protocol SCSIPassthrough: BlockDevice {
    /// Sends `cdb` (named `name` in messages) and returns the Data-In bytes the
    /// target sent, at most `dataInLength`. UNIT ATTENTION is retried as for
    /// every other command; any other status than GOOD throws the
    /// `BlockDeviceError` of the shared table (`BlockDeviceError(_:cdb:object:)`)
    /// with the `SCSICommandError` underneath.
    func passthrough(_ cdb: [UInt8], name: String, dataOut: ByteBuffer?, dataInLength: Int) async throws -> ByteBuffer
}
