// Standard INQUIRY data and the VPD pages 0x00, 0x80, 0x83, 0xB0, 0xB1, 0xB2,
// on samples shaped like what tgt and LIO answer, and on short or broken input.

import SCSI
import Testing

@Suite struct InquiryTests {
    /// Standard data as tgt 1.0.x sends it: SPC-3, HISUP, CMDQUE, 66 bytes with
    /// version descriptors for iSCSI, SPC-3 and SBC-2.
    static let tgtStandard: [UInt8] = {
        var data: [UInt8] = [0x00, 0x00, 0x05, 0x12, 61, 0x00, 0x00, 0x02]
        data += SampleBytes.ascii("IET", width: 8)
        data += SampleBytes.ascii("VIRTUAL-DISK", width: 16)
        data += SampleBytes.ascii("0001", width: 4)
        data += [UInt8](repeating: 0, count: 22)
        data += [0x09, 0x60, 0x03, 0x00, 0x03, 0x20, 0x00, 0x00]
        return data
    }()

    @Test func tgtStandardInquiry() throws {
        let inquiry = try StandardInquiryData(parsing: Self.tgtStandard)
        #expect(Self.tgtStandard.count == 66)
        #expect(inquiry.peripheralQualifier == .connected)
        #expect(inquiry.peripheralDeviceType == .directAccessBlock)
        #expect(inquiry.isConnectedDisk)
        #expect(!inquiry.removable)
        #expect(inquiry.version == 0x05)
        #expect(inquiry.hierarchicalSupport)
        #expect(!inquiry.normalACA)
        #expect(inquiry.responseDataFormat == 2)
        #expect(inquiry.commandQueueing)
        #expect(inquiry.targetPortGroupSupport == 0)
        #expect(!inquiry.thirdPartyCopy)
        #expect(inquiry.vendorIdentification == "IET")
        #expect(inquiry.productIdentification == "VIRTUAL-DISK")
        #expect(inquiry.productRevisionLevel == "0001")
        #expect(inquiry.versionDescriptors == [0x0960, 0x0300, 0x0320])
    }

    @Test func flagsAndQualifier() throws {
        // Qualifier 1 (not connected), removable, NORMACA, ALUA implicit + explicit,
        // 3PC, PROTECT, MULTIP, ENCSERV, no CMDQUE; 36 bytes only.
        var data: [UInt8] = [0x20, 0x80, 0x06, 0x22, 31, 0xB9, 0x50, 0x00]
        data += SampleBytes.ascii("LIO-ORG", width: 8) + SampleBytes.ascii("block1", width: 16) + SampleBytes.ascii("4.0", width: 4)
        let inquiry = try StandardInquiryData(parsing: data)
        #expect(inquiry.peripheralQualifier == .notConnected)
        #expect(!inquiry.isConnectedDisk)
        #expect(inquiry.removable)
        #expect(inquiry.normalACA)
        #expect(!inquiry.hierarchicalSupport)
        #expect(inquiry.storageArrayController)
        #expect(!inquiry.accessControlsCoordinator)
        #expect(inquiry.targetPortGroupSupport == 3)
        #expect(inquiry.thirdPartyCopy)
        #expect(inquiry.protect)
        #expect(inquiry.enclosureServices)
        #expect(inquiry.multiPort)
        #expect(!inquiry.commandQueueing)
        #expect(inquiry.vendorIdentification == "LIO-ORG")
        #expect(inquiry.versionDescriptors.isEmpty)
    }

    @Test func standardInquiryNeedsThirtySixBytes() {
        TruncationCheck.expectPrefixes(of: Self.tgtStandard, requiredLength: 36) {
            try StandardInquiryData(parsing: $0)
        }
        TruncationCheck.expectNoTrapOnGarbage { try StandardInquiryData(parsing: $0) }
    }

    // MARK: VPD 0x00 and 0x80

    static let supportedPages = SampleBytes.vpdPage(0x00, [0x00, 0x80, 0x83, 0xB0, 0xB1, 0xB2])

    @Test func supportedPages() throws {
        let page = try SupportedVitalProductDataPages(parsing: Self.supportedPages)
        #expect(page.pages == [.supportedPages, .unitSerialNumber, .deviceIdentification, .blockLimits,
                               .blockDeviceCharacteristics, .logicalBlockProvisioning])
        #expect(page.contains(.logicalBlockProvisioning))
        #expect(!page.contains(.extendedInquiryData))
        TruncationCheck.expectPrefixes(of: Self.supportedPages) { try SupportedVitalProductDataPages(parsing: $0) }
        TruncationCheck.expectNoTrapOnGarbage { try SupportedVitalProductDataPages(parsing: $0) }
    }

    static let serialNumber = SampleBytes.vpdPage(0x80, SampleBytes.ascii("beaf11", width: 12))

    @Test func unitSerialNumber() throws {
        #expect(try UnitSerialNumberPage(parsing: Self.serialNumber).serialNumber == "beaf11")
        // Right-aligned serial numbers lose their leading spaces too.
        let aligned = SampleBytes.vpdPage(0x80, Array("    XYZ123".utf8))
        #expect(try UnitSerialNumberPage(parsing: aligned).serialNumber == "XYZ123")
        TruncationCheck.expectPrefixes(of: Self.serialNumber) { try UnitSerialNumberPage(parsing: $0) }
    }

    @Test func wrongPageCodeIsRejected() throws {
        let error = try #require(throws: SCSIParseError.self) {
            try UnitSerialNumberPage(parsing: Self.supportedPages)
        }
        #expect(error.code == .invalidField)
        #expect(error.description == "cannot parse Unit Serial Number VPD page: page code is 0x00, expected 0x80")
    }

    // MARK: VPD 0x83

    static let naaIdentifier: [UInt8] = [
        0x60, 0x01, 0x40, 0x5F, 0x1A, 0x2B, 0x3C, 0x4D, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
    ]
    static let iqn = "iqn.2003-01.org.example:disk1"

    static let deviceIdentification: [UInt8] = {
        var body: [UInt8] = []
        // NAA 6, binary, logical unit.
        body += [0x01, 0x03, 0x00, 0x10] + naaIdentifier
        // T10 vendor ID, ASCII, logical unit.
        let t10 = SampleBytes.ascii("IET", width: 8) + Array("beaf11".utf8)
        body += [0x02, 0x01, 0x00, UInt8(t10.count)] + t10
        // Relative target port 1, iSCSI, PIV, target port.
        body += [0x51, 0x94, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01]
        // Target port group 2.
        body += [0x51, 0x95, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02]
        // SCSI name string of the target device, UTF-8, NUL-padded to a multiple of 4.
        let name = SampleBytes.ascii(iqn, width: 32, pad: 0x00)
        body += [0x53, 0xA8, 0x00, UInt8(name.count)] + name
        return SampleBytes.vpdPage(0x83, body)
    }()

    @Test func deviceIdentification() throws {
        let page = try DeviceIdentificationPage(parsing: Self.deviceIdentification)
        #expect(page.designators.count == 5)

        let naa = try #require(page.logicalUnitName)
        #expect(naa.designatorType == .naa)
        #expect(naa.naaFormat == 6)
        #expect(naa.codeSet == .binary)
        #expect(naa.association == .logicalUnit)
        #expect(naa.protocolIdentifier == nil)
        #expect(naa.identifier == Self.naaIdentifier)
        #expect(naa.hexString == "6001405f1a2b3c4d0000000000010001")

        let t10 = page.designators[1]
        #expect(t10.designatorType == .t10VendorID)
        #expect(t10.t10VendorIdentification == "IET")
        #expect(t10.text == "IET     beaf11")

        #expect(page.relativeTargetPort == 1)
        #expect(page.targetPortGroup == 2)
        #expect(page.designators[2].protocolIdentifier == 0x5)
        #expect(page.designators[2].association == .targetPort)

        let name = page.designators[4]
        #expect(name.designatorType == .scsiNameString)
        #expect(name.association == .targetDevice)
        #expect(name.codeSet == .utf8)
        #expect(name.text == Self.iqn)
        #expect(name.description == "SCSI name string \(Self.iqn)")
    }

    @Test func deviceIdentificationRejectsBadDescriptors() {
        // A relative target port designator must be four bytes long.
        let shortPort = SampleBytes.vpdPage(0x83, [0x51, 0x94, 0x00, 0x02, 0x00, 0x01])
        #expect(throws: SCSIParseError.self) { try DeviceIdentificationPage(parsing: shortPort) }
        // An NAA 5 designator is eight bytes, not sixteen.
        let wrongNAA = SampleBytes.vpdPage(0x83, [0x01, 0x03, 0x00, 0x10, 0x50] + [UInt8](repeating: 0, count: 15))
        #expect(throws: SCSIParseError.self) { try DeviceIdentificationPage(parsing: wrongNAA) }
        // A descriptor claiming more bytes than the page holds.
        let overrun = SampleBytes.vpdPage(0x83, [0x01, 0x03, 0x00, 0x10, 0x60, 0x00])
        #expect(throws: SCSIParseError.self) { try DeviceIdentificationPage(parsing: overrun) }
        // A header cut in half by the page length.
        let cut = SampleBytes.vpdPage(0x83, [0x01, 0x03])
        #expect(throws: SCSIParseError.self) { try DeviceIdentificationPage(parsing: cut) }
    }

    @Test func deviceIdentificationTruncatedAndGarbage() {
        TruncationCheck.expectPrefixes(of: Self.deviceIdentification) { try DeviceIdentificationPage(parsing: $0) }
        TruncationCheck.expectNoTrapOnGarbage(seed: 83) { try DeviceIdentificationPage(parsing: [0x00, 0x83] + $0) }
    }

    // MARK: VPD 0xB0

    static let blockLimits: [UInt8] = SampleBytes.vpdPage(0xB0, [
        0x01, 0x01, 0x00, 0x08,
        0x00, 0x00, 0x20, 0x00,  // MAXIMUM TRANSFER LENGTH 8192
        0x00, 0x00, 0x04, 0x00,  // OPTIMAL TRANSFER LENGTH 1024
        0x00, 0x00, 0x00, 0x00,
        0x00, 0x40, 0x00, 0x00,  // MAXIMUM UNMAP LBA COUNT 0x400000
        0x00, 0x00, 0x00, 0x10,  // MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT 16
        0x00, 0x00, 0x00, 0x08,  // OPTIMAL UNMAP GRANULARITY 8
        0x80, 0x00, 0x00, 0x02,  // UGAVALID, alignment 2
        0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,  // MAXIMUM WRITE SAME LENGTH 65536
    ], pageLength: 0x3C)

    @Test func blockLimits() throws {
        #expect(Self.blockLimits.count == 64)
        let page = try BlockLimitsPage(parsing: Self.blockLimits)
        #expect(page.writeSameNonZero)
        #expect(page.maximumCompareAndWriteLength == 1)
        #expect(page.optimalTransferLengthGranularity == 8)
        #expect(page.maximumTransferLength == 8192)
        #expect(page.optimalTransferLength == 1024)
        #expect(page.maximumPrefetchLength == 0)
        #expect(page.maximumUnmapLBACount == 0x40_0000)
        #expect(page.maximumUnmapBlockDescriptorCount == 16)
        #expect(page.optimalUnmapGranularity == 8)
        #expect(page.unmapGranularityAlignment == 2)
        #expect(page.maximumWriteSameLength == 65536)
        #expect(page.maximumAtomicTransferLength == 0)
        TruncationCheck.expectPrefixes(of: Self.blockLimits) { try BlockLimitsPage(parsing: $0) }
        TruncationCheck.expectNoTrapOnGarbage(seed: 0xB0) { try BlockLimitsPage(parsing: [0x00, 0xB0] + $0) }
    }

    @Test func shortBlockLimitsPageReadsAbsentFieldsAsZero() throws {
        // An SBC-2 era page: only up to OPTIMAL TRANSFER LENGTH.
        let old = SampleBytes.vpdPage(0xB0, [0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x80])
        let page = try BlockLimitsPage(parsing: old)
        #expect(page.maximumTransferLength == 256)
        #expect(page.optimalTransferLength == 128)
        #expect(page.maximumUnmapLBACount == 0)
        #expect(page.unmapGranularityAlignment == nil)
        #expect(page.maximumWriteSameLength == 0)
    }

    // MARK: VPD 0xB1

    static let solidState = SampleBytes.vpdPage(0xB1, [0x00, 0x01, 0x00, 0x03, 0x02], pageLength: 0x3C)

    @Test func blockDeviceCharacteristics() throws {
        let page = try BlockDeviceCharacteristicsPage(parsing: Self.solidState)
        #expect(page.isNonRotating)
        #expect(page.revolutionsPerMinute == nil)
        #expect(page.nominalFormFactor == .twoAndAHalfInch)
        #expect(page.forceUnitAccessBehavior)
        #expect(!page.verifyByteCheckUnmappedLBASupported)
        #expect(page.zoned == 0)

        let spinning = SampleBytes.vpdPage(0xB1, [0x1C, 0x20, 0x00, 0x52, 0x11], pageLength: 0x3C)
        let disk = try BlockDeviceCharacteristicsPage(parsing: spinning)
        #expect(disk.revolutionsPerMinute == 7200)
        #expect(disk.nominalFormFactor == .threeAndAHalfInch)
        #expect(disk.writeAfterBlockEraseRequired == 1)
        #expect(disk.writeAfterCryptographicEraseRequired == 1)
        #expect(disk.zoned == 1)
        #expect(disk.verifyByteCheckUnmappedLBASupported)

        let reserved = SampleBytes.vpdPage(0xB1, [0x00, 0x00, 0x00, 0x09, 0x00])
        #expect(try BlockDeviceCharacteristicsPage(parsing: reserved).nominalFormFactor == nil)

        TruncationCheck.expectPrefixes(of: Self.solidState) { try BlockDeviceCharacteristicsPage(parsing: $0) }
    }

    // MARK: VPD 0xB2

    /// tgt with thin_provisioning=1: LBPU, LBPWS, LBPWS10, LBPRZ, thin.
    static let thinProvisioning = SampleBytes.vpdPage(0xB2, [0x00, 0xE4, 0x02, 0x00])

    @Test func logicalBlockProvisioning() throws {
        let page = try LogicalBlockProvisioningPage(parsing: Self.thinProvisioning)
        #expect(page.thresholdExponent == 0)
        #expect(page.unmapSupported)
        #expect(page.writeSame16UnmapSupported)
        #expect(page.writeSame10UnmapSupported)
        #expect(page.lbprz == 1)
        #expect(page.unmappedBlocksReadZero)
        #expect(!page.anchorSupported)
        #expect(!page.descriptorPresent)
        #expect(page.provisioningType == .thinProvisioned)
        #expect(page.provisioningGroup == nil)
        TruncationCheck.expectPrefixes(of: Self.thinProvisioning) { try LogicalBlockProvisioningPage(parsing: $0) }
        TruncationCheck.expectNoTrapOnGarbage(seed: 0xB2) { try LogicalBlockProvisioningPage(parsing: [0x00, 0xB2] + $0) }
    }

    @Test func logicalBlockProvisioningWithGroupDescriptor() throws {
        // Threshold exponent 12, ANC_SUP + DP, minimum percentage 5, resource provisioned,
        // threshold 80 %, then an NAA 5 provisioning group designator.
        let group: [UInt8] = [0x01, 0x03, 0x00, 0x08, 0x50, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07]
        let bytes = SampleBytes.vpdPage(0xB2, [0x0C, 0x03, 0x29, 0x50] + group)
        let page = try LogicalBlockProvisioningPage(parsing: bytes)
        #expect(page.thresholdExponent == 12)
        #expect(page.anchorSupported)
        #expect(page.descriptorPresent)
        #expect(!page.unmapSupported)
        #expect(page.lbprz == 0)
        #expect(!page.unmappedBlocksReadZero)
        #expect(page.minimumPercentage == 5)
        #expect(page.provisioningType == .resourceProvisioned)
        #expect(page.thresholdPercentage == 80)
        #expect(page.provisioningGroup?.naaFormat == 5)
        #expect(page.provisioningGroup?.identifier == Array(group[4...]))
        TruncationCheck.expectPrefixes(of: bytes) { try LogicalBlockProvisioningPage(parsing: $0) }
    }
}
