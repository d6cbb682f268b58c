// Unit attentions per nexus: power on at first contact, capacity change, mode
// parameters changed, resets; which commands report them and which do not.

import NIOCore
import SCSI
import Testing
@testable import VSCSI

@Suite struct UnitAttentionTests {
    @Test func firstContactReportsPowerOnOnceToEachNexus() async throws {
        let fixture = try UnitFixture()
        // INQUIRY and REPORT LUNS do not report it.
        #expect(await fixture.run(CDB.inquiry()).status == .good)
        #expect(await fixture.run(CDB.reportLUNs()).status == .good)
        let first = await fixture.run(CDB.testUnitReady())
        #expect(first.status == .checkCondition)
        #expect(first.senseKey == .unitAttention)
        #expect(first.asc == .powerOnResetOrBusDeviceResetOccurred)
        #expect(await fixture.run(CDB.testUnitReady()).status == .good)
        // The other nexus still has its own.
        #expect(await fixture.run(CDB.read10(lba: 0, blockCount: 1), nexus: UnitFixture.b).senseKey == .unitAttention)
        #expect(await fixture.run(CDB.read10(lba: 0, blockCount: 1), nexus: UnitFixture.b).status == .good)
    }

    @Test func requestSenseReturnsAndClearsTheUnitAttention() async throws {
        let fixture = try UnitFixture()
        let sense = await fixture.run([0x03, 0, 0, 0, 252, 0])
        #expect(sense.status == .good)
        let parsed = try SenseData(parsing: sense.bytes)
        #expect(parsed.senseKey == .unitAttention)
        #expect(parsed.additionalSenseCode == .powerOnResetOrBusDeviceResetOccurred)
        let descriptor = await fixture.run([0x03, 1, 0, 0, 252, 0])
        #expect(descriptor.bytes.first == 0x72)
        #expect(try SenseData(parsing: descriptor.bytes).senseKey == .noSense)
        #expect(await fixture.run(CDB.testUnitReady()).status == .good)
        #expect(await fixture.run([0x03, 0, 0, 0, 8, 0]).bytes.count == 8)
    }

    @Test func capacityChangeIsReportedAfterAGrow() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions(UnitFixture.a)
        await fixture.clearUnitAttentions(UnitFixture.b)
        let file = try FileHandleForTest(path: fixture.device.path)
        try file.grow(to: (UnitFixture.blockCount + 1024) * 512)
        await fixture.unit.capacityChanged()
        for nexus in [UnitFixture.a, UnitFixture.b] {
            let response = await fixture.run(CDB.readCapacity16(), nexus: nexus)
            #expect(response.asc == .capacityDataHasChanged)
            let capacity = try ReadCapacity16Data(parsing: await fixture.run(CDB.readCapacity16(), nexus: nexus).bytes)
            #expect(capacity.blockCount == UnitFixture.blockCount + 1024)
        }
    }

    @Test func modeSelectTellsTheOtherNexuses() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions(UnitFixture.a)
        await fixture.clearUnitAttentions(UnitFixture.b)
        // Turn the write cache off through MODE SELECT(6).
        let page: [UInt8] = [0x08, 0x12, 0x00] + [UInt8](repeating: 0, count: 17)
        let list: [UInt8] = [0, 0, 0, 0] + page
        #expect(await fixture.run([0x15, 0x10, 0, 0, UInt8(list.count), 0], data: list).status == .good)
        #expect(await fixture.run(CDB.testUnitReady()).status == .good)
        #expect(await fixture.run(CDB.testUnitReady(), nexus: UnitFixture.b).asc == .modeParametersChanged)
        // Selecting the same values again changes nothing and tells nobody.
        #expect(await fixture.run([0x15, 0x10, 0, 0, UInt8(list.count), 0], data: list).status == .good)
        #expect(await fixture.run(CDB.testUnitReady(), nexus: UnitFixture.b).status == .good)
    }

    @Test(arguments: [
        (ResetKind.logicalUnit, AdditionalSenseCode.busDeviceResetFunctionOccurred),
        (.targetWarm, .powerOnResetOrBusDeviceResetOccurred),
        (.targetCold, .powerOnOccurred),
    ])
    func resetsAreReportedToEveryNexus(kind: ResetKind, code: AdditionalSenseCode) async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions(UnitFixture.a)
        await fixture.clearUnitAttentions(UnitFixture.b)
        fixture.unit.reset(kind: kind)
        #expect(await fixture.run(CDB.testUnitReady()).asc == code)
        #expect(await fixture.run(CDB.testUnitReady(), nexus: UnitFixture.b).asc == code)
        #expect(await fixture.run(CDB.testUnitReady()).status == .good)
    }

    @Test func nexusLossIsReportedToThatNexus() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions(UnitFixture.a)
        fixture.unit.nexusLost(UnitFixture.a)
        #expect(await fixture.run(CDB.testUnitReady()).asc == .iTNexusLossOccurred)
    }

    /// Many short sessions of fresh initiator ports: the unit remembers the last
    /// `lostNexusMemory` lost ones, not every port it ever saw; a registered one is kept.
    @Test func lostNexusesAreRememberedUpToABoundAndRegisteredOnesAlways() async throws {
        let fixture = try UnitFixture()
        func port(_ index: Int) -> Nexus { Nexus(initiatorPortName: "iqn.2024-01.test:churn,i,0x\(String(index, radix: 16))") }
        let registered = port(0)
        await fixture.clearUnitAttentions(registered)
        let (cdb, list) = CDB.persistentReserveOut(.register(existingKey: 0, newKey: 0x5EED))
        #expect(await fixture.run(cdb, data: list, nexus: registered).status == .good)
        fixture.unit.nexusLost(registered)
        let count = LogicalUnitState.lostNexusMemory * 3
        for index in 1...count {
            await fixture.clearUnitAttentions(port(index))
            fixture.unit.nexusLost(port(index))
        }
        let records = fixture.unit.state.withLockedValue { ($0.seen.count, $0.unitAttentions.count, $0.abortGenerations.count, $0.lostNexuses.count) }
        // The remembered lost ones, plus the registered one.
        #expect(records.0 == LogicalUnitState.lostNexusMemory + 1)
        #expect(records.1 == LogicalUnitState.lostNexusMemory + 1)
        #expect(records.2 == LogicalUnitState.lostNexusMemory + 1)
        #expect(records.3 == LogicalUnitState.lostNexusMemory)
        // The latest lost port hears of its loss; a long-forgotten one is new again; the registered one is still known.
        #expect(await fixture.run(CDB.testUnitReady(), nexus: port(count)).asc == .iTNexusLossOccurred)
        #expect(await fixture.run(CDB.testUnitReady(), nexus: port(1)).asc == .powerOnResetOrBusDeviceResetOccurred)
        #expect(await fixture.run(CDB.testUnitReady(), nexus: registered).asc == .iTNexusLossOccurred)
        let keys = await fixture.run([0x5E, 0x00, 0, 0, 0, 0, 0, 0, 64, 0], nexus: registered)
        #expect(keys.status == .good && keys.bytes.count >= 16 && Array(keys.bytes[8..<16]) == [0, 0, 0, 0, 0, 0, 0x5E, 0xED])
    }

    @Test func stoppedUnitsAreNotReadyUntilStarted() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        #expect(await fixture.run([0x1B, 0, 0, 0, 0x00, 0]).status == .good)
        let stopped = await fixture.run(CDB.read10(lba: 0, blockCount: 1))
        #expect(stopped.senseKey == .notReady)
        #expect(stopped.asc == .logicalUnitNotReadyInitializingCommandRequired)
        #expect(await fixture.run(CDB.testUnitReady()).senseKey == .notReady)
        #expect(await fixture.run(CDB.inquiry()).status == .good)
        #expect(await fixture.run([0x1B, 1, 0, 0, 0x01, 0]).status == .good)
        #expect(await fixture.run(CDB.read10(lba: 0, blockCount: 1)).status == .good)
        #expect(await fixture.run([0x1B, 0, 0, 0, 0x21, 0]).fieldPointer == .fieldPointer(inCDB: true, byte: 4, bit: 7))
    }
}
