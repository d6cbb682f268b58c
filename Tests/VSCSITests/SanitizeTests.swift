// SANITIZE overwrite, block erase and crypto erase on an image; progress and NOT READY
// while it runs in the background; parameter checks.

import NIOCore
import SCSI
import Testing
@testable import VSCSI

@Suite struct SanitizeTests {
    @Test func overwriteFillsEveryBlockWithThePattern() async throws {
        let fixture = try UnitFixture(blockCount: 2048)
        await fixture.clearUnitAttentions()
        let list: [UInt8] = [0x01, 0, 0, 4, 0xDE, 0xAD, 0xBE, 0xEF]
        #expect(await fixture.run([0x48, 0x01, 0, 0, 0, 0, 0, 0, 8, 0], data: list).status == .good)
        let expected = [UInt8]((0..<(4 * 512)).map { [0xDE, 0xAD, 0xBE, 0xEF][$0 % 4] })
        #expect(await fixture.run(CDB.read10(lba: 0, blockCount: 4)).bytes == expected)
        #expect(await fixture.run(CDB.read10(lba: 2044, blockCount: 4)).bytes == expected)
    }

    @Test(arguments: [UInt8(0x02), 0x03])
    func erasesLeaveZeros(action: UInt8) async throws {
        let fixture = try UnitFixture(blockCount: 2048)
        await fixture.clearUnitAttentions()
        #expect(await fixture.run(CDB.write10(lba: 100, blockCount: 8), data: fixture.pattern(2, blocks: 8)).status == .good)
        #expect(await fixture.run([0x48, action, 0, 0, 0, 0, 0, 0, 0, 0]).status == .good)
        #expect(await fixture.run(CDB.read10(lba: 100, blockCount: 8)).bytes == [UInt8](repeating: 0, count: 8 * 512))
    }

    @Test func immediateSanitizeShowsProgressAndBlocksOtherCommands() async throws {
        let fixture = try UnitFixture(blockCount: 1 << 16)
        await fixture.clearUnitAttentions()
        let list: [UInt8] = [0x08, 0, 0, 1, 0x5A]  // 8 passes over 32 MiB keep it busy long enough to look at
        #expect(await fixture.run([0x48, 0x81, 0, 0, 0, 0, 0, 0, 5, 0], data: list).status == .good)
        let busy = await fixture.run(CDB.read10(lba: 0, blockCount: 1))
        #expect(busy.senseKey == .notReady)
        #expect(busy.asc == .logicalUnitNotReadySanitizeInProgress)
        #expect(await fixture.run(CDB.inquiry()).status == .good)
        let sense = try SenseData(parsing: await fixture.run([0x03, 0, 0, 0, 18, 0]).bytes)
        #expect(sense.additionalSenseCode == .logicalUnitNotReadySanitizeInProgress)
        guard case .progressIndication = sense.senseKeySpecific else {
            Issue.record("no progress indication in \(sense)")
            return
        }
        // Wait for the end, then the unit is usable and holds the pattern.
        for _ in 0..<6000 {
            if await fixture.run(CDB.testUnitReady()).status == .good { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(await fixture.run(CDB.read10(lba: 5, blockCount: 1)).bytes == [UInt8](repeating: 0x5A, count: 512))
    }

    @Test func pacedSanitizeRunsOnThroughAbortsResetsAndNexusLoss() async throws {
        // 4 MiB of disk at 4 MiB/s: a second of work however fast the machine is.
        let fixture = try UnitFixture(options: LogicalUnitOptions(thinProvisioned: true, sanitizeBytesPerSecond: 4 << 20))
        await fixture.clearUnitAttentions()
        let started = ContinuousClock.now
        #expect(await fixture.run([0x48, 0x81, 0, 0, 0, 0, 0, 0, 5, 0], data: [0x01, 0, 0, 1, 0x3C]).status == .good)
        fixture.unit.abortTaskSet(nexus: UnitFixture.a)
        fixture.unit.reset(kind: .logicalUnit)
        fixture.unit.reset(kind: .targetWarm)
        fixture.unit.reset(kind: .targetCold)
        fixture.unit.nexusLost(UnitFixture.a)
        await fixture.clearUnitAttentions()
        let busy = await fixture.run(CDB.testUnitReady())
        #expect(busy.senseKey == .notReady)
        #expect(busy.asc == .logicalUnitNotReadySanitizeInProgress)
        // Bounded wait for the end (the pace allows it after a second; 20 s at most).
        var finished = false
        for _ in 0..<2000 where !finished {
            finished = await fixture.run(CDB.testUnitReady()).status == .good
            if !finished { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(finished)
        #expect(ContinuousClock.now - started >= .milliseconds(900))
        #expect(await fixture.run(CDB.read16(lba: UnitFixture.blockCount - 1, blockCount: 1)).bytes == [UInt8](repeating: 0x3C, count: 512))
    }

    @Test func parametersAreChecked() async throws {
        let fixture = try UnitFixture(blockCount: 256)
        await fixture.clearUnitAttentions()
        func overwrite(_ list: [UInt8], length: UInt8? = nil) async -> SCSICommandResponse {
            await fixture.run([0x48, 0x01, 0, 0, 0, 0, 0, 0, length ?? UInt8(list.count), 0], data: list)
        }
        #expect(await overwrite([0x01, 0, 0, 4, 1, 2, 3]).asc == .parameterListLengthError)
        #expect(await overwrite([0x00, 0, 0, 1, 1]).fieldPointer == .fieldPointer(inCDB: false, byte: 0, bit: 4))
        #expect(await overwrite([0x01, 0, 0, 0, 7]).fieldPointer == .fieldPointer(inCDB: false, byte: 2, bit: nil))
        // A PARAMETER LIST LENGTH under 5 or over a block plus 4 is the CDB's fault (SBC-4 §5.30.2).
        #expect(await overwrite([0x01, 0, 0, 0]).fieldPointer == .fieldPointer(inCDB: true, byte: 7, bit: nil))
        #expect(await fixture.run([0x48, 0x01, 0, 0, 0, 0, 0, 0x02, 0x05, 0], data: [UInt8](repeating: 1, count: 517)).fieldPointer == .fieldPointer(inCDB: true, byte: 7, bit: nil))
        #expect(await overwrite([0x21, 0, 0, 1, 1]).fieldPointer == .fieldPointer(inCDB: false, byte: 0, bit: 6))
        #expect(await fixture.run([0x48, 0x02, 0, 0, 0, 0, 0, 0, 4, 0], data: [0, 0, 0, 0]).fieldPointer == .fieldPointer(inCDB: true, byte: 7, bit: nil))
        #expect(await fixture.run([0x48, 0x04, 0, 0, 0, 0, 0, 0, 0, 0]).fieldPointer == .fieldPointer(inCDB: true, byte: 1, bit: 4))
        #expect(await fixture.run([0x48, 0x1F, 0, 0, 0, 0, 0, 0, 0, 0]).status == .good)
    }
}
