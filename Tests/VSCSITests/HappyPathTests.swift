// One valid use of every command in the table, run in table order on one unit: each
// must succeed, and the list must cover every implemented command.

import NIOCore
import SCSI
import Testing
@testable import VSCSI

@Suite struct HappyPathTests {
    static func validUse(of kind: CommandKind, unit: LogicalUnit) -> (cdb: [UInt8], data: [UInt8])? {
        let block = [UInt8](repeating: 0x3C, count: 512)
        let register = CDB.persistentReserveOut(.register(existingKey: 0, newKey: 0x42))
        let copy = ExtendedCopyTests.parameterList(
            listID: 5, targets: [ExtendedCopyTests.identification(unit)],
            segments: [ExtendedCopyTests.segment(source: 0, destination: 0, blocks: 4, from: 0, to: 8)]
        )
        switch kind {
        case .testUnitReady: return (CDB.testUnitReady(), [])
        case .requestSense: return ([0x03, 0, 0, 0, 18, 0], [])
        case .inquiry: return (CDB.inquiry(), [])
        case .startStopUnit: return ([0x1B, 0, 0, 0, 0x01, 0], [])
        case .modeSense6: return ([0x1A, 0, 0x3F, 0, 255, 0], [])
        case .modeSense10: return (CDB.modeSense10(page: 0x3F), [])
        case .modeSelect6: return ([0x15, 0x10, 0, 0, 16, 0], [0, 0, 0, 0, 0x0A, 0x0A, 0x02, 0x10, 0, 0, 0, 0, 0, 0, 0, 0])
        case .modeSelect10: return ([0x55, 0x10, 0, 0, 0, 0, 0, 0, 20, 0], [UInt8](repeating: 0, count: 8) + [0x1C, 0x0A, 0x08] + [UInt8](repeating: 0, count: 9))
        case .reserve6: return ([0x16, 0, 0, 0, 0, 0], [])
        case .release6: return ([0x17, 0, 0, 0, 0, 0], [])
        case .reserve10: return ([0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0], [])
        case .release10: return ([0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0], [])
        case .persistentReserveIn: return (CDB.persistentReserveIn(.readKeys), [])
        case .persistentReserveOut: return (register.cdb, register.parameterList)
        case .read6: return ([0x08, 0, 0, 1, 1, 0], [])
        case .read10: return (CDB.read10(lba: 1, blockCount: 1), [])
        case .read12: return ([0xA8, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0], [])
        case .read16: return (CDB.read16(lba: 1, blockCount: 1), [])
        case .write6: return ([0x0A, 0, 0, 1, 1, 0], block)
        case .write10: return (CDB.write10(lba: 1, blockCount: 1), block)
        case .write12: return ([0xAA, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0], block)
        case .write16: return (CDB.write16(lba: 1, blockCount: 1), block)
        case .verify10: return ([0x2F, 0x02, 0, 0, 0, 1, 0, 0, 1, 0], block)
        case .verify12: return ([0xAF, 0x06, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0], block)
        case .verify16: return ([0x8F, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0], [])
        case .writeAndVerify10: return ([0x2E, 0x02, 0, 0, 0, 1, 0, 0, 1, 0], block)
        case .writeAndVerify12: return ([0xAE, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0], block)
        case .writeAndVerify16: return ([0x8E, 0x02, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0], block)
        case .writeSame10: return ([0x41, 0, 0, 0, 0, 2, 0, 0, 2, 0], block)
        case .writeSame16: return (CDB.writeSame16(lba: 4, blockCount: 2), block)
        case .unmap:
            let (cdb, list) = CDB.unmap([UnmapBlockDescriptor(lba: 100, blockCount: 1)])
            return (cdb, list)
        case .orWrite16: return ([0x8B, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0], block)
        case .writeAtomic16: return ([0x9C, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0], block)
        // SANITIZE comes earlier in table order and left the block zeroed.
        case .compareAndWrite: return (CDB.compareAndWrite(lba: 1, blockCount: 1), [UInt8](repeating: 0, count: 512) + block)
        case .preFetch10: return ([0x34, 0, 0, 0, 0, 0, 0, 0, 8, 0], [])
        case .preFetch16: return ([0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0], [])
        case .synchronizeCache10: return (CDB.synchronizeCache10(), [])
        case .synchronizeCache16: return (CDB.synchronizeCache16(), [])
        case .readCapacity10: return (CDB.readCapacity10(), [])
        case .readCapacity16: return (CDB.readCapacity16(), [])
        case .getLBAStatus: return ([0x9E, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 24, 0, 0], [])
        case .readDefectData10: return ([0x37, 0, 0x18, 0, 0, 0, 0, 0, 4, 0], [])
        case .readDefectData12: return ([0xB7, 0x18, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0], [])
        case .reportLUNs: return (CDB.reportLUNs(), [])
        case .reportSupportedOperationCodes: return (CDB.reportSupportedOperationCodes(), [])
        case .reportSupportedTaskManagementFunctions: return ([0xA3, 0x0D, 0x80, 0, 0, 0, 0, 0, 0, 16, 0, 0], [])
        case .extendedCopy: return (ExtendedCopyTests.extendedCopy(copy.count), copy)
        case .receiveCopyStatus: return ([0x84, 0x00, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 0, 0], [])
        case .receiveCopyOperatingParameters: return ([0x84, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0], [])
        case .sanitize: return ([0x48, 0x02, 0, 0, 0, 0, 0, 0, 0, 0], [])
        }
    }

    @Test func everyCommandSucceedsOnce() async throws {
        let fixture = try UnitFixture(blockCount: 1024)
        await fixture.clearUnitAttentions()
        #expect(Set(CommandTable.all.map(\.kind)) == Set(CommandKind.allCases))
        // One use per kind: the rows of one opcode's service actions share a kind and a handler.
        var exercised = Set<CommandKind>()
        for command in CommandTable.all where exercised.insert(command.kind).inserted {
            guard let use = Self.validUse(of: command.kind, unit: fixture.unit) else {
                Issue.record("no valid use of \(command.name)")
                continue
            }
            #expect(use.cdb.count == command.cdbLength, "\(command.name)")
            let response = await fixture.run(use.cdb, data: use.data)
            #expect(response.status.isSuccess, "\(command.name): \(response.senseData.map { "\($0)" } ?? "\(response.status)")")
        }
    }

    @Test func defectDataAndTaskManagementFunctions() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        #expect(await fixture.run([0x37, 0, 0x18, 0, 0, 0, 0, 0, 4, 0]).bytes == [0, 0x18, 0, 0])
        #expect(await fixture.run([0xB7, 0x1D, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0]).bytes == [0, 0x1D, 0, 0, 0, 0, 0, 0])
        #expect(await fixture.run([0xA3, 0x0D, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0]).bytes == [0xCA, 0, 0, 0])
        let extended = await fixture.run([0xA3, 0x0D, 0x80, 0, 0, 0, 0, 0, 0, 16, 0, 0]).bytes
        #expect(extended.count == 16 && extended[3] == 0x0C)
        #expect(await fixture.run([0xA3, 0x0D, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0]).fieldPointer == .fieldPointer(inCDB: true, byte: 6, bit: nil))
    }
}
