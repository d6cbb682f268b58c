// READ CAPACITY(10)/(16) data, REPORT LUNS data and the SAM-5 LUN field.

import SCSI
import Testing

@Suite struct CapacityAndLUNTests {
    /// 1 GiB of 512-byte blocks: last LBA 0x1FFFFF.
    static let capacity10: [UInt8] = [0x00, 0x1F, 0xFF, 0xFF, 0x00, 0x00, 0x02, 0x00]

    @Test func readCapacity10() throws {
        let data = try ReadCapacity10Data(parsing: Self.capacity10)
        #expect(data.returnedLBA == 0x1F_FFFF)
        #expect(data.blockCount == 2_097_152)
        #expect(data.blockLength == 512)
        #expect(!data.needsReadCapacity16)
        let huge = try ReadCapacity10Data(parsing: [0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x10, 0x00])
        #expect(huge.needsReadCapacity16)
        #expect(huge.blockCount == 0x1_0000_0000)
        TruncationCheck.expectPrefixes(of: Self.capacity10) { try ReadCapacity10Data(parsing: $0) }
        #expect(throws: SCSIParseError.self) { try ReadCapacity10Data(parsing: [0, 0, 0, 1, 0, 0, 0, 0]) }
    }

    /// 16 TiB of 512-byte blocks on 4 KiB physical sectors, thin, zeros on read,
    /// protection type 2 enabled, lowest aligned LBA 7.
    static let capacity16: [UInt8] = [
        0x00, 0x00, 0x00, 0x07, 0xFF, 0xFF, 0xFF, 0xFF,
        0x00, 0x00, 0x02, 0x00,
        0x13, 0x03, 0xC0, 0x07,
    ] + [UInt8](repeating: 0, count: 16)

    @Test func readCapacity16() throws {
        let data = try ReadCapacity16Data(parsing: Self.capacity16)
        #expect(data.returnedLBA == 0x7_FFFF_FFFF)
        #expect(data.blockCount == 0x8_0000_0000)
        #expect(data.blockLength == 512)
        #expect(data.capacityBasis == 1)
        #expect(data.protectionType == 1)
        #expect(data.protectionEnabled)
        #expect(data.protectionIntervalExponent == 0)
        #expect(data.logicalBlocksPerPhysicalBlockExponent == 3)
        #expect(data.physicalBlockLength == 4096)
        #expect(data.logicalBlockProvisioningManagementEnabled)
        #expect(data.logicalBlockProvisioningReadZeros)
        #expect(data.lowestAlignedLBA == 7)
        TruncationCheck.expectPrefixes(of: Self.capacity16, requiredLength: 16) { try ReadCapacity16Data(parsing: $0) }
        TruncationCheck.expectNoTrapOnGarbage { try ReadCapacity16Data(parsing: $0) }
    }

    @Test func readCapacity16RejectsImpossibleValues() {
        var zeroLength = Self.capacity16
        zeroLength.replaceSubrange(8..<12, with: [0, 0, 0, 0])
        #expect(throws: SCSIParseError.self) { try ReadCapacity16Data(parsing: zeroLength) }
        var lastLBA = Self.capacity16
        lastLBA.replaceSubrange(0..<8, with: [UInt8](repeating: 0xFF, count: 8))
        #expect(throws: SCSIParseError.self) { try ReadCapacity16Data(parsing: lastLBA) }
    }

    /// LUN 0, LUN 1 and flat-space LUN 300, as a target with many LUNs reports them.
    static let reportLUNs: [UInt8] = [
        0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0, 0, 0, 0, 0, 0,
        0x00, 0x01, 0, 0, 0, 0, 0, 0,
        0x41, 0x2C, 0, 0, 0, 0, 0, 0,
        0xC1, 0x01, 0, 0, 0, 0, 0, 0,  // the REPORT LUNS well-known logical unit
    ]

    @Test func reportLUNsData() throws {
        let data = try ReportLUNsData(parsing: Self.reportLUNs)
        #expect(data.luns.map(\.number) == [0, 1, 300, nil])
        #expect(data.luns[2].addressing == .flat(300))
        #expect(data.luns[3].addressing == .other)
        #expect(data.luns[3].rawValue == 0xC101_0000_0000_0000)
        #expect(data.luns[3].description == "LUN 0xC101000000000000")
    }

    @Test func reportLUNsTruncationSaysHowMuchToAskFor() throws {
        TruncationCheck.expectPrefixes(of: Self.reportLUNs) { try ReportLUNsData(parsing: $0) }
        let error = try #require(throws: SCSIParseError.self) {
            try ReportLUNsData(parsing: Array(Self.reportLUNs.prefix(16)))
        }
        #expect(error.code == .truncated)
        #expect(error.neededBytes == 40)
        #expect(throws: SCSIParseError.self) {
            try ReportLUNsData(parsing: [0, 0, 0, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        }
        TruncationCheck.expectNoTrapOnGarbage { try ReportLUNsData(parsing: [0, 0, 0] + $0) }
        #expect(try ReportLUNsData(parsing: [0, 0, 0, 0, 0, 0, 0, 0]).luns.isEmpty)
    }

    @Test func lunFromNumber() throws {
        let zero = try #require(LUN(number: 0))
        #expect(zero.bytes == [0, 0, 0, 0, 0, 0, 0, 0])
        let five = try #require(LUN(number: 5))
        #expect(five.bytes == [0x00, 0x05, 0, 0, 0, 0, 0, 0])
        #expect(five.rawValue == 0x0005_0000_0000_0000)
        #expect(five.addressing == .peripheral(bus: 0, targetOrLUN: 5))
        let top = try #require(LUN(number: 255))
        #expect(top.bytes == [0x00, 0xFF, 0, 0, 0, 0, 0, 0])
        let flat = try #require(LUN(number: 256))
        #expect(flat.bytes == [0x41, 0x00, 0, 0, 0, 0, 0, 0])
        let largest = try #require(LUN(number: 16383))
        #expect(largest.bytes == [0x7F, 0xFF, 0, 0, 0, 0, 0, 0])
        #expect(LUN(number: 16384) == nil)
        #expect(LUN(number: -1) == nil)
    }

    @Test func lunRoundTrips() throws {
        for number in [0, 1, 17, 255, 256, 1000, 16383] {
            let lun = try #require(LUN(number: number))
            #expect(lun.number == number)
            #expect(try LUN(bytes: lun.bytes) == lun)
            #expect(LUN(rawValue: lun.rawValue) == lun)
        }
        // Flat addressing of a small number is still LUN 3.
        #expect(try LUN(bytes: [0x40, 0x03, 0, 0, 0, 0, 0, 0]).number == 3)
        // A peripheral address on bus 2 names a target, not a LUN number.
        let bus = try LUN(bytes: [0x02, 0x07, 0, 0, 0, 0, 0, 0])
        #expect(bus.addressing == .peripheral(bus: 2, targetOrLUN: 7))
        #expect(bus.number == nil)
        // A second level makes it hierarchical.
        #expect(try LUN(bytes: [0x00, 0x01, 0x00, 0x02, 0, 0, 0, 0]).addressing == .other)
        #expect(LUN(number: 2)! < LUN(number: 300)!)
        #expect(LUN(number: 9)?.description == "LUN 9")
    }

    @Test func lunFieldMustBeEightBytes() {
        for length in [0, 1, 7, 9, 16] {
            #expect(throws: SCSIParseError.self) { try LUN(bytes: [UInt8](repeating: 0, count: length)) }
        }
    }
}
