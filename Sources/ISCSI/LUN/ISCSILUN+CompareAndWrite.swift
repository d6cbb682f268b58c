// COMPARE AND WRITE across a lost connection: find out whether the first attempt landed before repeating it.

import NIOCore
import SCSI

extension ISCSILUN {
    /// Decides what a COMPARE AND WRITE whose connection was lost did, before it is sent again.
    ///
    /// Repeating it blindly is wrong: if the first attempt was applied, the target now
    /// holds the new data and the repeat would report a miscompare the caller did not
    /// cause (a datastore would fence itself over its own heartbeat). So after the
    /// reconnection the range is read back on the new session:
    /// - it holds the replacement: the first attempt landed; report GOOD without resending;
    /// - anything else: it did not land (or someone changed the range since); send the
    ///   command again and let the target compare, so a miscompare reported is one the
    ///   data really shows now.
    ///
    /// Returns nil for every other command, and when the command must be sent again.
    func settleCompareAndWrite(_ cdb: [UInt8], dataOut: ByteBuffer?) async throws -> SCSITaskResult? {
        guard cdb.count >= 16, cdb[0] == OperationCode.compareAndWrite.rawValue, let dataOut else { return nil }
        let lba = cdb[2..<10].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let blockCount = Int(cdb[13])
        let half = dataOut.readableBytes / 2
        guard blockCount > 0, half > 0, let replacement = dataOut.getSlice(at: dataOut.readerIndex + half, length: half) else { return nil }
        let current = try await run(
            CDB.read16(lba: lba, blockCount: UInt32(blockCount)),
            name: "READ(16) after a lost COMPARE AND WRITE",
            expectedDataIn: half
        )
        return current.data == replacement ? SCSITaskResult(status: SCSIStatus.good.rawValue) : nil
    }
}
