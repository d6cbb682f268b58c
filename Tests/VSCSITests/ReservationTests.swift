// Persistent reservations with two nexuses: the access each type leaves a holder,
// another registrant and a non-registrant (SPC-5 table 58 for READ and WRITE), the
// service actions' rules, and the SPC-2 RESERVE/RELEASE.

import NIOCore
import SCSI
import Testing
@testable import VSCSI

@Suite struct ReservationTests {
    static let c = Nexus(initiatorPortName: "iqn.2024-01.test:c,i,0x000000000003", relativeTargetPort: 1)

    func prOut(_ fixture: UnitFixture, _ request: PersistentReserveOutRequest, as nexus: Nexus) async -> SCSICommandResponse {
        let (cdb, list) = CDB.persistentReserveOut(request)
        return await fixture.run(cdb, data: list, nexus: nexus)
    }

    /// (type, may another registrant write, may a non-registrant read, may it write)
    static let expectations: [(PersistentReservationType, Bool, Bool, Bool)] = [
        (.writeExclusive, false, true, false),
        (.exclusiveAccess, false, false, false),
        (.writeExclusiveRegistrantsOnly, true, true, false),
        (.exclusiveAccessRegistrantsOnly, true, false, false),
        (.writeExclusiveAllRegistrants, true, true, false),
        (.exclusiveAccessAllRegistrants, true, false, false),
    ]

    @Test(arguments: 0..<6)
    func accessUnderEachType(row: Int) async throws {
        let (type, registrantWrites, othersRead, othersWrite) = Self.expectations[row]
        let fixture = try UnitFixture()
        for nexus in [UnitFixture.a, UnitFixture.b, Self.c] { await fixture.clearUnitAttentions(nexus) }
        #expect(await prOut(fixture, .register(existingKey: 0, newKey: 0xA), as: UnitFixture.a).status == .good)
        #expect(await prOut(fixture, .register(existingKey: 0, newKey: 0xB), as: UnitFixture.b).status == .good)
        #expect(await prOut(fixture, .reserve(key: 0xA, type: type), as: UnitFixture.a).status == .good)

        let block = fixture.pattern(1)
        let write = CDB.write10(lba: 1, blockCount: 1)
        let read = CDB.read10(lba: 1, blockCount: 1)
        func allowed(_ response: SCSICommandResponse) -> Bool { response.status == .good }
        func conflict(_ response: SCSICommandResponse) -> Bool { response.status == .reservationConflict }

        // The holder may do anything.
        #expect(allowed(await fixture.run(write, data: block, nexus: UnitFixture.a)))
        #expect(allowed(await fixture.run(read, nexus: UnitFixture.a)))
        // Another registrant.
        let registrantWrite = await fixture.run(write, data: block, nexus: UnitFixture.b)
        #expect(registrantWrites ? allowed(registrantWrite) : conflict(registrantWrite), "\(type)")
        // A nexus that never registered.
        let otherRead = await fixture.run(read, nexus: Self.c)
        #expect(othersRead ? allowed(otherRead) : conflict(otherRead), "\(type)")
        let otherWrite = await fixture.run(write, data: block, nexus: Self.c)
        #expect(othersWrite ? allowed(otherWrite) : conflict(otherWrite), "\(type)")
        // Commands that are always allowed.
        #expect(allowed(await fixture.run(CDB.inquiry(), nexus: Self.c)))
        #expect(allowed(await fixture.run(CDB.readCapacity16(), nexus: Self.c)))
        #expect(allowed(await fixture.run(CDB.persistentReserveIn(.readReservation), nexus: Self.c)))
        #expect(allowed(await fixture.run(CDB.testUnitReady(), nexus: Self.c)))
        // RESERVE(6) conflicts with a persistent reservation.
        #expect(conflict(await fixture.run([0x16, 0, 0, 0, 0, 0], nexus: UnitFixture.b)))

        let status = try PersistentReservationStatus(parsing: await fixture.run(CDB.persistentReserveIn(.readReservation)).bytes)
        #expect(status.holder?.type == type)
        #expect(status.holder?.key == (type.isAllRegistrants ? 0 : 0xA))
    }

    @Test func registrationRules() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions(UnitFixture.a)
        await fixture.clearUnitAttentions(UnitFixture.b)
        // Registering with a non-zero key while unregistered is a conflict.
        #expect(await prOut(fixture, .register(existingKey: 5, newKey: 6), as: UnitFixture.a).status == .reservationConflict)
        #expect(await prOut(fixture, .register(existingKey: 0, newKey: 6), as: UnitFixture.a).status == .good)
        #expect(await prOut(fixture, .register(existingKey: 7, newKey: 8), as: UnitFixture.a).status == .reservationConflict)
        #expect(await prOut(fixture, .registerAndIgnoreExistingKey(newKey: 9), as: UnitFixture.a).status == .good)
        #expect(await prOut(fixture, .register(existingKey: 0, newKey: 0x99), as: UnitFixture.b).status == .good)
        var keys = try PersistentReservationKeys(parsing: await fixture.run(CDB.persistentReserveIn(.readKeys)).bytes)
        #expect(keys.keys == [9, 0x99])
        let generation = keys.generation
        // Reserving needs the right key; the holder releases with the right type.
        #expect(await prOut(fixture, .reserve(key: 1, type: .writeExclusive), as: UnitFixture.a).status == .reservationConflict)
        #expect(await prOut(fixture, .reserve(key: 9, type: .writeExclusive), as: UnitFixture.a).status == .good)
        #expect(await prOut(fixture, .reserve(key: 0x99, type: .writeExclusive), as: UnitFixture.b).status == .reservationConflict)
        let wrongType = await prOut(fixture, .release(key: 9, type: .exclusiveAccess), as: UnitFixture.a)
        #expect(wrongType.asc == .invalidReleaseOfPersistentReservation)
        // A registrant that is not the holder releases nothing, successfully.
        #expect(await prOut(fixture, .release(key: 0x99, type: .writeExclusive), as: UnitFixture.b).status == .good)
        #expect(try PersistentReservationStatus(parsing: await fixture.run(CDB.persistentReserveIn(.readReservation)).bytes).holder != nil)
        #expect(await prOut(fixture, .release(key: 9, type: .writeExclusive), as: UnitFixture.a).status == .good)
        keys = try PersistentReservationKeys(parsing: await fixture.run(CDB.persistentReserveIn(.readKeys)).bytes)
        #expect(keys.generation == generation, "RESERVE and RELEASE leave the generation alone")
        // Unregistering the holder drops the reservation.
        #expect(await prOut(fixture, .reserve(key: 9, type: .exclusiveAccess), as: UnitFixture.a).status == .good)
        #expect(await prOut(fixture, .register(existingKey: 9, newKey: 0), as: UnitFixture.a).status == .good)
        #expect(try PersistentReservationStatus(parsing: await fixture.run(CDB.persistentReserveIn(.readReservation)).bytes).holder == nil)
    }

    @Test func preemptAndClearTellTheLosers() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions(UnitFixture.a)
        await fixture.clearUnitAttentions(UnitFixture.b)
        #expect(await prOut(fixture, .register(existingKey: 0, newKey: 0xA), as: UnitFixture.a).status == .good)
        #expect(await prOut(fixture, .register(existingKey: 0, newKey: 0xB), as: UnitFixture.b).status == .good)
        #expect(await prOut(fixture, .reserve(key: 0xA, type: .exclusiveAccess), as: UnitFixture.a).status == .good)
        #expect(await fixture.run(CDB.read10(lba: 0, blockCount: 1), nexus: UnitFixture.b).status == .reservationConflict)
        // B takes the reservation over from A.
        let preempt = await prOut(fixture, .preempt(key: 0xB, victimKey: 0xA, type: .writeExclusive, abort: true), as: UnitFixture.b)
        #expect(preempt.status == .good)
        let status = try PersistentReservationStatus(parsing: await fixture.run(CDB.persistentReserveIn(.readReservation), nexus: UnitFixture.b).bytes)
        #expect(status.holder == .init(key: 0xB, type: .writeExclusive))
        let lost = await fixture.run(CDB.testUnitReady(), nexus: UnitFixture.a)
        #expect(lost.senseKey == .unitAttention)
        #expect(lost.asc == .registrationsPreempted)
        // Preempting a key nobody holds, or key 0 without an All Registrants reservation.
        #expect(await prOut(fixture, .preempt(key: 0xB, victimKey: 0x77, type: .writeExclusive, abort: false), as: UnitFixture.b).status == .reservationConflict)
        let zero = await prOut(fixture, .preempt(key: 0xB, victimKey: 0, type: .writeExclusive, abort: false), as: UnitFixture.b)
        #expect(zero.fieldPointer == .fieldPointer(inCDB: false, byte: 8, bit: nil))
        // CLEAR removes everything and tells the other registrants.
        #expect(await prOut(fixture, .register(existingKey: 0, newKey: 0xA), as: UnitFixture.a).status == .good)
        #expect(await prOut(fixture, .clear(key: 0xB), as: UnitFixture.b).status == .good)
        #expect(await fixture.run(CDB.testUnitReady(), nexus: UnitFixture.a).asc == .reservationsPreempted)
        let keys = try PersistentReservationKeys(parsing: await fixture.run(CDB.persistentReserveIn(.readKeys)).bytes)
        #expect(keys.keys.isEmpty)
    }

    @Test func reserveInReportsCapabilitiesAndFullStatus() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        let capabilities = try PersistentReservationCapabilities(parsing: await fixture.run(CDB.persistentReserveIn(.reportCapabilities)).bytes)
        #expect(capabilities.typeMaskValid)
        #expect(capabilities.supportedTypes == Set(PersistentReservationType.allCases))
        #expect(!capabilities.persistThroughPowerLoss)
        #expect(await prOut(fixture, .register(existingKey: 0, newKey: 0x1234), as: UnitFixture.a).status == .good)
        #expect(await prOut(fixture, .reserve(key: 0x1234, type: .writeExclusive), as: UnitFixture.a).status == .good)
        let full = await fixture.run(CDB.persistentReserveIn(.readFullStatus))
        let bytes = full.bytes
        #expect(Array(bytes[8..<16]) == [0, 0, 0, 0, 0, 0, 0x12, 0x34])
        #expect(bytes[8 + 12] == 0x01 && bytes[8 + 13] == 0x01)
        let name = String(decoding: bytes[(8 + 24 + 4)...].prefix { $0 != 0 }, as: UTF8.self)
        #expect(name == UnitFixture.a.initiatorPortName)
        #expect(await fixture.run([0x5E, 0x04, 0, 0, 0, 0, 0, 0, 64, 0]).fieldPointer == .fieldPointer(inCDB: true, byte: 1, bit: 4))
    }

    @Test func reserveOutChecksItsParameters() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        let (cdb, list) = CDB.persistentReserveOut(.register(existingKey: 0, newKey: 1))
        var short = cdb
        short[8] = 20
        #expect(await fixture.run(short, data: list).asc == .parameterListLengthError)
        var allPorts = list
        allPorts[20] = 0x04
        #expect(await fixture.run(cdb, data: allPorts).fieldPointer == .fieldPointer(inCDB: false, byte: 20, bit: 2))
        var badType = CDB.persistentReserveOut(.reserve(key: 1, type: .writeExclusive))
        badType.cdb[2] = 0x02
        #expect(await fixture.run(badType.cdb, data: badType.parameterList).fieldPointer == .fieldPointer(inCDB: true, byte: 2, bit: 3))
        var badScope = CDB.persistentReserveOut(.reserve(key: 1, type: .writeExclusive))
        badScope.cdb[2] = 0x21
        #expect(await fixture.run(badScope.cdb, data: badScope.parameterList).fieldPointer == .fieldPointer(inCDB: true, byte: 2, bit: 7))
        #expect(await fixture.run([0x5F, 0x07, 0, 0, 0, 0, 0, 0, 24, 0], data: list).fieldPointer == .fieldPointer(inCDB: true, byte: 1, bit: 4))
    }

    @Test func legacyReserveAndRelease() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions(UnitFixture.a)
        await fixture.clearUnitAttentions(UnitFixture.b)
        #expect(await fixture.run([0x16, 0, 0, 0, 0, 0]).status == .good)
        #expect(await fixture.run([0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0]).status == .good)
        #expect(await fixture.run([0x16, 0, 0, 0, 0, 0], nexus: UnitFixture.b).status == .reservationConflict)
        #expect(await fixture.run(CDB.read10(lba: 0, blockCount: 1), nexus: UnitFixture.b).status == .reservationConflict)
        #expect(await fixture.run(CDB.inquiry(), nexus: UnitFixture.b).status == .good)
        // RELEASE by a non-holder succeeds and changes nothing.
        #expect(await fixture.run([0x17, 0, 0, 0, 0, 0], nexus: UnitFixture.b).status == .good)
        #expect(await fixture.run(CDB.write10(lba: 0, blockCount: 1), data: fixture.pattern(1), nexus: UnitFixture.b).status == .reservationConflict)
        #expect(await fixture.run(CDB.persistentReserveIn(.readKeys), nexus: UnitFixture.b).status == .reservationConflict)
        #expect(await fixture.run([0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0]).status == .good)
        #expect(await fixture.run(CDB.read10(lba: 0, blockCount: 1), nexus: UnitFixture.b).status == .good)
        // A LUN reset releases it too.
        #expect(await fixture.run([0x16, 0, 0, 0, 0, 0]).status == .good)
        fixture.unit.reset(kind: .logicalUnit)
        await fixture.clearUnitAttentions(UnitFixture.b)
        #expect(await fixture.run(CDB.read10(lba: 0, blockCount: 1), nexus: UnitFixture.b).status == .good)
    }
}
