// EXTENDED COPY(LID1) block-to-block within one unit and across two units of a
// registry, RECEIVE COPY RESULTS, and the descriptor checks.

import Foundation
import NIOCore
import SCSI
import TestSupport
import Testing
@testable import VSCSI

@Suite struct ExtendedCopyTests {
    static func identification(_ unit: LogicalUnit) -> [UInt8] {
        CDB.copyTargetDescriptor(naa: unit.identity.naaIdentifier, blockLength: 512)
    }

    static func segment(source: UInt16, destination: UInt16, blocks: UInt16, from: UInt64, to: UInt64) -> [UInt8] {
        CDB.copyBlockSegment(source: source, destination: destination, blocks: blocks, sourceLBA: from, destinationLBA: to)
    }

    static func parameterList(listID: UInt8, usage: UInt8 = 0, targets: [[UInt8]], segments: [[UInt8]]) -> [UInt8] {
        CDB.copyParameterList(listID: listID, usage: usage, targets: targets, segments: segments)
    }

    static func extendedCopy(_ length: Int) -> [UInt8] {
        CDB.extendedCopy(parameterListLength: length)
    }

    @Test func copiesWithinOneUnitAndReportsTheResult() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        let data = fixture.pattern(11, blocks: 2100)
        // Written in two halves: the maximum transfer length is far above, the test stays quick.
        #expect(await fixture.run(CDB.write16(lba: 0, blockCount: 2100), data: data).status == .good)
        let list = Self.parameterList(
            listID: 7,
            targets: [Self.identification(fixture.unit)],
            segments: [Self.segment(source: 0, destination: 0, blocks: 2100, from: 0, to: 4000)]
        )
        #expect(await fixture.run(Self.extendedCopy(list.count), data: list).status == .good)
        #expect(await fixture.run(CDB.read16(lba: 4000, blockCount: 2100)).bytes == data)

        let status = await fixture.run([0x84, 0x00, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 0, 0])
        #expect(status.status == .good)
        #expect(status.bytes[4] == 0x01)
        #expect(Array(status.bytes[5..<7]) == [0, 1])
        #expect(Array(status.bytes[8..<12]) == [0, 0x10, 0x68, 0x00])  // 2100 × 512 bytes
        // Reported once, then forgotten.
        #expect(await fixture.run([0x84, 0x00, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 0, 0]).asc == .invalidFieldInCDB)

        let parameters = await fixture.run([0x84, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0])
        #expect(parameters.bytes.count == 46)
        #expect(Array(parameters.bytes[44...]) == [0x02, 0xE4])
    }

    @Test func copiesAcrossUnitsOfARegistry() async throws {
        let registry = LogicalUnitRegistry()
        let directory = TemporaryDirectory()
        let source = try UnitFixture(registry: registry, directory: directory)
        let target = try UnitFixture(registry: registry, uuid: UUID(), directory: directory)
        await source.clearUnitAttentions()
        let data = source.pattern(3, blocks: 16)
        #expect(await source.run(CDB.write10(lba: 32, blockCount: 16), data: data).status == .good)
        let list = Self.parameterList(
            listID: 1, usage: 0b11,
            targets: [Self.identification(source.unit), Self.identification(target.unit)],
            segments: [Self.segment(source: 0, destination: 1, blocks: 16, from: 32, to: 100)]
        )
        #expect(await source.run(Self.extendedCopy(list.count), data: list).status == .good)
        await target.clearUnitAttentions()
        #expect(await target.run(CDB.read10(lba: 100, blockCount: 16)).bytes == data)
        // A designator no registered unit has.
        var stranger = Self.identification(source.unit)
        stranger[8] ^= 0x01
        let unknown = Self.parameterList(listID: 2, targets: [stranger], segments: [Self.segment(source: 0, destination: 0, blocks: 1, from: 0, to: 1)])
        let unreachable = await source.run(Self.extendedCopy(unknown.count), data: unknown)
        #expect(unreachable.senseKey == .copyAborted)
        #expect(unreachable.asc == .unreachableCopyTarget)
    }

    @Test func descriptorsAreChecked() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        let me = Self.identification(fixture.unit)
        let segment = Self.segment(source: 0, destination: 0, blocks: 1, from: 0, to: 1)
        func copy(_ list: [UInt8]) async -> SCSICommandResponse {
            await fixture.run(Self.extendedCopy(list.count), data: list)
        }
        #expect(await copy([]).status == .good)
        let full = Self.parameterList(listID: 1, targets: [me], segments: [segment])
        #expect(await copy(Array(full.dropLast())).asc == .parameterListLengthError)
        var fibreChannel = me
        fibreChannel[0] = 0xE0
        #expect(await copy(Self.parameterList(listID: 1, targets: [fibreChannel], segments: [segment])).asc == .unsupportedTargetDescriptorTypeCode)
        var stream = segment
        stream[0] = 0x01
        #expect(await copy(Self.parameterList(listID: 1, targets: [me], segments: [stream])).asc == .unsupportedSegmentDescriptorTypeCode)
        let nine = [[UInt8]](repeating: me, count: 9)
        #expect(await copy(Self.parameterList(listID: 1, targets: nine, segments: [segment])).asc == .tooManyTargetDescriptors)
        let many = [[UInt8]](repeating: segment, count: 65)
        #expect(await copy(Self.parameterList(listID: 1, targets: [me], segments: many)).asc == .tooManySegmentDescriptors)
        let tooLong = [[UInt8]](repeating: segment, count: 150)
        #expect(await copy(Self.parameterList(listID: 1, targets: [me], segments: tooLong)).asc == .parameterListLengthError)
        let outside = Self.segment(source: 0, destination: 0, blocks: 4, from: UnitFixture.blockCount - 2, to: 0)
        let aborted = await copy(Self.parameterList(listID: 3, targets: [me], segments: [outside]))
        #expect(aborted.senseKey == .copyAborted)
        #expect(aborted.asc == .noAdditionalSenseInformation)
        // A segment naming a CSCD the list does not have (index 1 of a one-entry list).
        let pastTheList = Self.segment(source: 0, destination: 1, blocks: 1, from: 0, to: 1)
        let unreachable = await copy(Self.parameterList(listID: 4, targets: [me], segments: [pastTheList]))
        #expect(unreachable.senseKey == .copyAborted)
        #expect(unreachable.asc == .copyTargetDeviceNotReachable)
    }
}
