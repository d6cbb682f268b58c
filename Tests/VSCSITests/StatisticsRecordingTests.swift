// A logical unit with statistics counts each data command once, in its class, with its bytes.

import Foundation
import SCSI
import Testing
@testable import VSCSI

@Suite struct StatisticsRecordingTests {
    @Test func readsAreCountedWithTheirBytes() async throws {
        let statistics = IOStatistics()
        let fixture = try UnitFixture(statistics: statistics)
        await fixture.clearUnitAttentions()
        let reads = 25
        let blocks: UInt16 = 8
        for index in 0..<reads {
            let response = await fixture.run(CDB.read10(lba: UInt32(index) * 8, blockCount: blocks))
            #expect(response.status == .good)
        }
        let snapshot = statistics.snapshot()
        #expect(snapshot[.read].totals == IOCounts(operations: UInt64(reads), bytes: UInt64(reads * Int(blocks) * fixture.blockSize), errors: 0))
        #expect(snapshot[.read].latency != nil)
        // TEST UNIT READY (the unit attention clearing) is not a data command.
        #expect(snapshot[.write].totals == IOCounts())
        #expect(snapshot[.other].totals == IOCounts())
    }

    @Test func writesOthersAndFailuresLandInTheirClass() async throws {
        let statistics = IOStatistics()
        let fixture = try UnitFixture(statistics: statistics)
        await fixture.clearUnitAttentions()
        for lba in [UInt32(0), 16, 32] {
            #expect(await fixture.run(CDB.write10(lba: lba, blockCount: 2), data: fixture.pattern(1, blocks: 2)).status == .good)
        }
        #expect(await fixture.run(CDB.synchronizeCache10()).status == .good)
        let (cdb, list) = CDB.unmap([UnmapBlockDescriptor(lba: 0, blockCount: 2)])
        #expect(await fixture.run(cdb, data: list).status == .good)
        // Past the end: CHECK CONDITION, an error with no bytes.
        let past = await fixture.run(CDB.read16(lba: UnitFixture.blockCount, blockCount: 1))
        #expect(past.status == .checkCondition)
        // Not data commands: not counted.
        await fixture.run(CDB.inquiry())
        await fixture.run(CDB.readCapacity10())

        let snapshot = statistics.snapshot()
        #expect(snapshot[.write].totals == IOCounts(operations: 3, bytes: UInt64(3 * 2 * fixture.blockSize), errors: 0))
        #expect(snapshot[.other].totals == IOCounts(operations: 2, bytes: UInt64(list.count), errors: 0))
        #expect(snapshot[.read].totals == IOCounts(operations: 1, bytes: 0, errors: 1))
    }

    @Test func aWriteRefusedAtAdmissionIsAnError() async throws {
        let statistics = IOStatistics()
        let fixture = try UnitFixture(options: LogicalUnitOptions(thinProvisioned: true, writeProtected: true), statistics: statistics)
        await fixture.clearUnitAttentions()
        let response = await fixture.run(CDB.write10(lba: 0, blockCount: 1), data: fixture.pattern(2))
        #expect(response.senseKey == .dataProtect)
        #expect(statistics.snapshot()[.write].totals == IOCounts(operations: 1, bytes: 0, errors: 1))
    }
}
