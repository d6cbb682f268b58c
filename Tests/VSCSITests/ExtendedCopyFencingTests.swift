// EXTENDED COPY cannot reach past another unit's fence: a copy sent to one unit, naming a
// unit reserved by another initiator as its source or destination, gets RESERVATION
// CONFLICT (SPC-2 RESERVE and SCSI-3 persistent reservations), and a stopped or
// write-protected unit refuses the copy as it would refuse the READ or WRITE itself.

import Foundation
import NIOCore
import SCSI
import TestSupport
import Testing
@testable import VSCSI

@Suite struct ExtendedCopyFencingTests {
    /// Two units of one registry; `a` holds data at LBA 0 of both, `b` is the one who copies.
    struct Pair {
        let first: UnitFixture
        let second: UnitFixture
        let firstData: [UInt8]
        let secondData: [UInt8]

        init() async throws {
            let registry = LogicalUnitRegistry()
            let directory = TemporaryDirectory()
            first = try UnitFixture(registry: registry, directory: directory)
            second = try UnitFixture(registry: registry, uuid: UUID(), directory: directory)
            for unit in [first, second] {
                await unit.clearUnitAttentions(UnitFixture.a)
                await unit.clearUnitAttentions(UnitFixture.b)
            }
            firstData = first.pattern(5, blocks: 8)
            secondData = second.pattern(9, blocks: 8)
            #expect(await first.run(CDB.write10(lba: 0, blockCount: 8), data: firstData).status == .good)
            #expect(await second.run(CDB.write10(lba: 0, blockCount: 8), data: secondData).status == .good)
        }

        /// `b` sends EXTENDED COPY to `first`, copying 8 blocks from `source` to `destination`
        /// (0: first, 1: second), LBA 0 to LBA 0.
        func copy(from source: UInt16, to destination: UInt16) async -> SCSICommandResponse {
            let list = ExtendedCopyTests.parameterList(
                listID: 1, usage: 0b11,
                targets: [ExtendedCopyTests.identification(first.unit), ExtendedCopyTests.identification(second.unit)],
                segments: [ExtendedCopyTests.segment(source: source, destination: destination, blocks: 8, from: 0, to: 0)]
            )
            return await first.run(ExtendedCopyTests.extendedCopy(list.count), data: list, nexus: UnitFixture.b)
        }

        /// Both units still hold what `a` wrote.
        func untouched() async -> Bool {
            let one = await first.run(CDB.read10(lba: 0, blockCount: 8), nexus: UnitFixture.a).bytes
            let two = await second.run(CDB.read10(lba: 0, blockCount: 8), nexus: UnitFixture.a).bytes
            return one == firstData && two == secondData
        }
    }

    enum Fence: CaseIterable {
        case spc2Reserve
        case persistentExclusiveAccess

        /// `a` fences `unit` so that nobody else may read or write it.
        func apply(_ unit: UnitFixture) async {
            switch self {
            case .spc2Reserve:
                #expect(await unit.run([0x16, 0, 0, 0, 0, 0], nexus: UnitFixture.a).status == .good)
            case .persistentExclusiveAccess:
                let (register, registerList) = CDB.persistentReserveOut(.register(existingKey: 0, newKey: 0xA))
                #expect(await unit.run(register, data: registerList, nexus: UnitFixture.a).status == .good)
                let (reserve, reserveList) = CDB.persistentReserveOut(.reserve(key: 0xA, type: .exclusiveAccess))
                #expect(await unit.run(reserve, data: reserveList, nexus: UnitFixture.a).status == .good)
            }
        }
    }

    @Test(arguments: Fence.allCases)
    func aCopyIntoAUnitReservedByAnotherInitiatorConflicts(fence: Fence) async throws {
        let pair = try await Pair()
        await fence.apply(pair.second)
        // b's own WRITE to the fenced unit conflicts; so does its copy into it.
        #expect(await pair.second.run(CDB.write10(lba: 0, blockCount: 1), data: pair.second.pattern(1), nexus: UnitFixture.b).status == .reservationConflict)
        let copy = await pair.copy(from: 0, to: 1)
        #expect(copy.status == .reservationConflict, "copy into the fenced unit: \(copy.status)")
        #expect(await pair.untouched())
    }

    @Test(arguments: Fence.allCases)
    func aCopyOutOfAUnitReservedByAnotherInitiatorConflicts(fence: Fence) async throws {
        let pair = try await Pair()
        await fence.apply(pair.second)
        #expect(await pair.second.run(CDB.read10(lba: 0, blockCount: 1), nexus: UnitFixture.b).status == .reservationConflict)
        let copy = await pair.copy(from: 1, to: 0)
        #expect(copy.status == .reservationConflict, "copy out of the fenced unit: \(copy.status)")
        #expect(await pair.untouched(), "nothing of the fenced unit reached the other")
    }

    @Test func theHolderItselfStillCopies() async throws {
        let pair = try await Pair()
        await Fence.spc2Reserve.apply(pair.second)
        let list = ExtendedCopyTests.parameterList(
            listID: 2, usage: 0b11,
            targets: [ExtendedCopyTests.identification(pair.first.unit), ExtendedCopyTests.identification(pair.second.unit)],
            segments: [ExtendedCopyTests.segment(source: 0, destination: 1, blocks: 8, from: 0, to: 0)]
        )
        #expect(await pair.first.run(ExtendedCopyTests.extendedCopy(list.count), data: list, nexus: UnitFixture.a).status == .good)
        #expect(await pair.second.run(CDB.read10(lba: 0, blockCount: 8), nexus: UnitFixture.a).bytes == pair.firstData)
    }

    @Test func aStoppedSourceIsNotReadyAndAWriteProtectedDestinationIsDataProtect() async throws {
        let pair = try await Pair()
        // START STOP UNIT with START 0 stops the second unit.
        #expect(await pair.second.run([0x1B, 0, 0, 0, 0, 0], nexus: UnitFixture.a).status == .good)
        let outOfStopped = await pair.copy(from: 1, to: 0)
        #expect(outOfStopped.senseKey == .notReady && outOfStopped.asc == .logicalUnitNotReadyInitializingCommandRequired)
        #expect(await pair.second.run([0x1B, 0, 0, 0, 1, 0], nexus: UnitFixture.a).status == .good)

        let registry = LogicalUnitRegistry()
        let directory = TemporaryDirectory()
        let writable = try UnitFixture(registry: registry, directory: directory)
        let protected = try UnitFixture(options: LogicalUnitOptions(writeProtected: true), registry: registry, uuid: UUID(), directory: directory)
        await writable.clearUnitAttentions(UnitFixture.b)
        let list = ExtendedCopyTests.parameterList(
            listID: 3, usage: 0b11,
            targets: [ExtendedCopyTests.identification(writable.unit), ExtendedCopyTests.identification(protected.unit)],
            segments: [ExtendedCopyTests.segment(source: 0, destination: 1, blocks: 1, from: 0, to: 0)]
        )
        let intoProtected = await writable.run(ExtendedCopyTests.extendedCopy(list.count), data: list, nexus: UnitFixture.b)
        #expect(intoProtected.senseKey == .dataProtect)
    }
}
