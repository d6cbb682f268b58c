// MODE SENSE(6/10) page controls and block descriptors, MODE SELECT checks, and the
// effect of D_SENSE, SWP and WCE.

import NIOCore
import SCSI
import Testing
@testable import VSCSI

@Suite struct ModePageTests {
    @Test func senseReportsEveryPageAndPageControl() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        let all = try ModeSenseData(parsing: await fixture.run(CDB.modeSense10(page: 0x3F, disableBlockDescriptors: false)).bytes)
        #expect(all.pages.map(\.pageCode) == [0x08, 0x0A, 0x1C])
        #expect(all.caching?.writeCacheEnabled == true)
        #expect(all.control?.descriptorSense == false)
        #expect(all.blockDescriptors == [ModeBlockDescriptor(blockCount: UnitFixture.blockCount, blockLength: 512)])
        #expect(all.supportsDPOAndFUA && !all.writeProtected)
        let long = try ModeSenseData(parsing: await fixture.run(CDB.modeSense10(page: 0x08, disableBlockDescriptors: false, longLBAAccepted: true)).bytes)
        #expect(long.longLBA && long.blockDescriptors.first?.blockCount == UnitFixture.blockCount)
        let changeable = try ModeSenseData(parsing: await fixture.run(CDB.modeSense10(page: 0x0A, pageControl: .changeable)).bytes)
        #expect(changeable.control?.descriptorSense == true && changeable.control?.softwareWriteProtect == true)
        #expect(changeable.control?.taskAbortedStatus == false)
        let defaults = try ModeSenseData(parsing: await fixture.run(CDB.modeSense10(page: 0x1C, pageControl: .default)).bytes)
        #expect(defaults.pages.first?.parameters.first == 0x08)
        let saved = await fixture.run(CDB.modeSense10(page: 0x08, pageControl: .saved))
        #expect(saved.asc == .savingParametersNotSupported)
        #expect(await fixture.run(CDB.modeSense10(page: 0x19)).fieldPointer == .fieldPointer(inCDB: true, byte: 2, bit: 5))
        #expect(await fixture.run(CDB.modeSense10(page: 0x08, subpage: 1)).fieldPointer == .fieldPointer(inCDB: true, byte: 3, bit: nil))
        // MODE SENSE(6): 4-byte header, cut to the allocation length.
        let six = await fixture.run([0x1A, 0x00, 0x3F, 0, 255, 0])
        #expect(Int(six.bytes[0]) == six.bytes.count - 1)
        #expect(six.bytes[3] == 8)
        #expect(await fixture.run([0x1A, 0x08, 0x3F, 0, 4, 0]).bytes.count == 4)
    }

    @Test func selectChecksItsParameterList() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        let control: [UInt8] = [0x0A, 0x0A, 0x02, 0x10, 0, 0, 0, 0, 0, 0, 0, 0]
        func select10(_ list: [UInt8], flags: UInt8 = 0x10) async -> SCSICommandResponse {
            await fixture.run([0x55, flags, 0, 0, 0, 0, 0, 0, UInt8(list.count), 0], data: list)
        }
        let header = [UInt8](repeating: 0, count: 8)
        #expect(await select10(header + control).status == .good)
        // A bit outside the changeable mask: TST in byte 2 of the page.
        var tst = control
        tst[2] |= 0x20
        #expect(await select10(header + tst).fieldPointer == .fieldPointer(inCDB: false, byte: 10, bit: 5))
        var length = control
        length[1] = 0x0B
        #expect(await select10(header + length + [0]).fieldPointer == .fieldPointer(inCDB: false, byte: 9, bit: nil))
        #expect(await select10(header + [0x19, 0x02, 0, 0]).fieldPointer == .fieldPointer(inCDB: false, byte: 8, bit: 5))
        #expect(await select10(header + Array(control.prefix(6))).asc == .parameterListLengthError)
        #expect(await select10(Array(header.prefix(5))).asc == .parameterListLengthError)
        #expect(await select10(header + control, flags: 0x00).fieldPointer == .fieldPointer(inCDB: true, byte: 1, bit: 4))
        #expect(await select10(header + control, flags: 0x11).fieldPointer == .fieldPointer(inCDB: true, byte: 1, bit: 0))
        // A block descriptor with another block length.
        var descriptor: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0x10, 0x00]
        #expect(await select10(descriptor + control).fieldPointer == .fieldPointer(inCDB: false, byte: 13, bit: nil))
        descriptor[14] = 0x02
        #expect(await select10(descriptor + control).status == .good)
    }

    @Test func descriptorSenseAndSoftwareWriteProtect() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        let control: [UInt8] = [0x0A, 0x0A, 0x06, 0x10, 0x08, 0, 0, 0, 0, 0, 0, 0]
        let list = [UInt8](repeating: 0, count: 4) + control
        #expect(await fixture.run([0x15, 0x10, 0, 0, UInt8(list.count), 0], data: list).status == .good)
        let refused = await fixture.run(CDB.write10(lba: 0, blockCount: 1), data: fixture.pattern(1))
        #expect(refused.sense.first == 0x72)
        #expect(refused.senseKey == .dataProtect)
        #expect(refused.asc == .writeProtected)
        let sense = try ModeSenseData(parsing: await fixture.run(CDB.modeSense10(page: 0x0A)).bytes)
        #expect(sense.writeProtected)
        // A LUN reset puts the defaults back.
        fixture.unit.reset(kind: .logicalUnit)
        await fixture.clearUnitAttentions()
        let allowed = await fixture.run(CDB.write10(lba: 0, blockCount: 1), data: fixture.pattern(1))
        #expect(allowed.status == .good)
    }
}
