// One verified round trip on a logged-in session: TEST UNIT READY (past the power-on unit
// attention), a WRITE(10) of a pattern, and a READ(10) that must return it.

import ISCSI
import NIOCore
import TestSupport
import Testing

enum VerifiedIO {
    /// Writes 16 blocks of a pattern seeded by `seed` at `lba` and reads them back;
    /// records an issue naming `context` unless both succeed with the same bytes.
    static func roundTrip(_ session: ISCSISession, lba: UInt32, seed: UInt64, _ context: String) async throws {
        let data = TestPattern.bytes(seed: seed, count: 16 * 512)
        _ = try await session.execute(SCSITaskRequest(lun: 0, cdb: [0, 0, 0, 0, 0, 0]))
        let write = try await session.execute(SCSITaskRequest(lun: 0, cdb: ExportDatastoreEndToEndTests.cdb10(0x2A, lba: lba, blocks: 16), dataOut: data))
        let read = try await session.execute(SCSITaskRequest(lun: 0, cdb: ExportDatastoreEndToEndTests.cdb10(0x28, lba: lba, blocks: 16), expectedDataInLength: data.readableBytes))
        #expect(write.isGood && read.isGood && read.data == data, "\(context): write \(write.status), read \(read.status)")
    }
}
