// A write-protected unit: every command that changes the medium gets DATA PROTECT,
// WRITE PROTECTED; reads and everything else still work.

import NIOCore
import SCSI
import Testing
@testable import VSCSI

@Suite struct WriteProtectTests {
    static let changing: [(String, [UInt8], Int)] = [
        ("WRITE(6)", [0x0A, 0, 0, 0, 1, 0], 512),
        ("WRITE(10)", CDB.write10(lba: 0, blockCount: 1), 512),
        ("WRITE(12)", [0xAA, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0], 512),
        ("WRITE(16)", CDB.write16(lba: 0, blockCount: 1), 512),
        ("WRITE AND VERIFY(10)", [0x2E, 0, 0, 0, 0, 0, 0, 0, 1, 0], 512),
        ("WRITE SAME(16)", CDB.writeSame16(lba: 0, blockCount: 1), 512),
        ("UNMAP", CDB.unmap(parameterListLength: 24), 24),
        ("COMPARE AND WRITE", CDB.compareAndWrite(lba: 0, blockCount: 1), 1024),
        ("ORWRITE(16)", [0x8B, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0], 512),
        ("WRITE ATOMIC(16)", [0x9C, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0], 512),
        ("SANITIZE", [0x48, 0x02, 0, 0, 0, 0, 0, 0, 0, 0], 0),
    ]

    @Test func changingCommandsAreRefused() async throws {
        let fixture = try UnitFixture(options: LogicalUnitOptions(thinProvisioned: true, writeProtected: true))
        await fixture.clearUnitAttentions()
        for (name, cdb, length) in Self.changing {
            let response = await fixture.run(cdb, data: [UInt8](repeating: 0, count: length))
            #expect(response.senseKey == .dataProtect, "\(name)")
            #expect(response.asc == .writeProtected, "\(name)")
        }
        #expect(await fixture.run(CDB.read10(lba: 0, blockCount: 1)).status == .good)
        #expect(await fixture.run(CDB.synchronizeCache10()).status == .good)
        let mode = try ModeSenseData(parsing: await fixture.run(CDB.modeSense10(page: 0x08)).bytes)
        #expect(mode.writeProtected)
    }
}
