// INQUIRY, READ CAPACITY and REPORT LUNS data, read back with the SCSI module's parsers.

import Foundation
import NIOCore
import SCSI
import Testing
@testable import VSCSI

@Suite struct InquiryTests {
    @Test func standardDataDescribesAThinDisk() async throws {
        let fixture = try UnitFixture()
        let response = await fixture.run(CDB.inquiry())
        // INQUIRY does not report the power-on unit attention.
        #expect(response.status == .good)
        let data = try StandardInquiryData(parsing: response.bytes)
        #expect(data.isConnectedDisk)
        #expect(data.version == 0x06)
        #expect(data.responseDataFormat == 2)
        #expect(data.thirdPartyCopy)
        #expect(data.commandQueueing)
        #expect(data.vendorIdentification == "VDISKD")
        #expect(data.productIdentification == "VIRTUAL DISK")
        #expect(response.bytes[4] == UInt8(response.bytes.count - 5))
        #expect(fixture.unit.pendingUnitAttentions(for: UnitFixture.a) == [.powerOnResetOrBusDeviceResetOccurred])
    }

    @Test func vitalProductDataPagesParse() async throws {
        let fixture = try UnitFixture()
        let supported = try SupportedVitalProductDataPages(parsing: await fixture.run(CDB.inquiry(page: .supportedPages)).bytes)
        #expect(supported.pages.map(\.rawValue) == [0x00, 0x80, 0x83, 0xB0, 0xB1, 0xB2])

        let serial = try UnitSerialNumberPage(parsing: await fixture.run(CDB.inquiry(page: .unitSerialNumber)).bytes)
        #expect(serial.serialNumber == "6f1e2d3c4b5a49688776a5b4c3d2e1f0")

        let identification = try DeviceIdentificationPage(
            parsing: await fixture.run(CDB.inquiry(page: .deviceIdentification), nexus: UnitFixture.b).bytes
        )
        let naa = try #require(identification.logicalUnitName)
        #expect(naa.naaFormat == 3)
        #expect(naa.identifier == fixture.unit.identity.naaIdentifier)
        #expect(identification.designators.contains { $0.t10VendorIdentification == "VDISKD" })
        #expect(identification.relativeTargetPort == 2)

        let limits = try BlockLimitsPage(parsing: await fixture.run(CDB.inquiry(page: .blockLimits)).bytes)
        #expect(!limits.writeSameNonZero)
        // 4096-byte physical blocks of 512-byte logical blocks: eight per physical block.
        #expect(limits.optimalTransferLengthGranularity == 8)
        #expect(limits.optimalUnmapGranularity == 8)
        #expect(limits.maximumCompareAndWriteLength == 255)
        #expect(limits.maximumTransferLength == 32768)
        #expect(limits.maximumUnmapLBACount == 0x40_0000)
        #expect(limits.maximumUnmapBlockDescriptorCount == 256)
        #expect(limits.maximumWriteSameLength == 0x40_0000)

        let characteristics = try BlockDeviceCharacteristicsPage(parsing: await fixture.run(CDB.inquiry(page: .blockDeviceCharacteristics)).bytes)
        #expect(characteristics.isNonRotating)

        let provisioning = try LogicalBlockProvisioningPage(parsing: await fixture.run(CDB.inquiry(page: .logicalBlockProvisioning)).bytes)
        #expect(provisioning.unmapSupported && provisioning.writeSame16UnmapSupported && provisioning.writeSame10UnmapSupported)
        #expect(provisioning.unmappedBlocksReadZero)
        #expect(provisioning.provisioningType == .thinProvisioned)
    }

    @Test func physicalBlocksAreReportedAsAnExponent() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        let capacity = try ReadCapacity16Data(parsing: await fixture.run(CDB.readCapacity16()).bytes)
        #expect(capacity.logicalBlocksPerPhysicalBlockExponent == 3)
        #expect(capacity.physicalBlockLength == 4096)
        #expect(capacity.lowestAlignedLBA == 0)
        // Logical blocks as large as the physical ones: one per physical block.
        let large = try UnitFixture(blockSize: 4096, blockCount: 256)
        await large.clearUnitAttentions()
        let same = try ReadCapacity16Data(parsing: await large.run(CDB.readCapacity16()).bytes)
        #expect(same.logicalBlocksPerPhysicalBlockExponent == 0)
        let largeLimits = try BlockLimitsPage(parsing: await large.run(CDB.inquiry(page: .blockLimits)).bytes)
        #expect(largeLimits.optimalTransferLengthGranularity == 1)
        // A configured 64 KiB physical block over 512-byte blocks: 128 per physical block.
        let wide = try UnitFixture(options: LogicalUnitOptions(thinProvisioned: true, physicalBlockSize: 65536))
        await wide.clearUnitAttentions()
        let wideCapacity = try ReadCapacity16Data(parsing: await wide.run(CDB.readCapacity16()).bytes)
        #expect(wideCapacity.logicalBlocksPerPhysicalBlockExponent == 7)
    }

    @Test func fullyProvisionedUnitsReportNoProvisioning() async throws {
        let fixture = try UnitFixture(options: LogicalUnitOptions(thinProvisioned: false))
        let provisioning = try LogicalBlockProvisioningPage(parsing: await fixture.run(CDB.inquiry(page: .logicalBlockProvisioning)).bytes)
        #expect(!provisioning.unmapSupported)
        #expect(provisioning.provisioningType == .fullOrNotReported)
        await fixture.clearUnitAttentions()
        let capacity = try ReadCapacity16Data(parsing: await fixture.run(CDB.readCapacity16()).bytes)
        #expect(!capacity.logicalBlockProvisioningManagementEnabled)
    }

    @Test func dataIsCutToTheAllocationAndExpectedLengths() async throws {
        let fixture = try UnitFixture()
        let short = await fixture.run(CDB.inquiry(allocationLength: 10))
        #expect(short.bytes.count == 10)
        #expect(short.transferLength == 10)
        let cut = await fixture.run(CDB.inquiry(allocationLength: 96), expected: 36)
        #expect(cut.bytes.count == 36)
        #expect(cut.transferLength == 96)
        let vpd = await fixture.run(CDB.inquiry(page: .deviceIdentification, allocationLength: 4))
        #expect(vpd.bytes.count == 4)
        #expect(vpd.transferLength == 4)
        let none = await fixture.run(CDB.inquiry(allocationLength: 0))
        #expect(none.status == .good && none.bytes.isEmpty)
    }

    @Test func invalidInquiriesAreRefused() async throws {
        let fixture = try UnitFixture()
        let pageWithoutEVPD = await fixture.run([0x12, 0x00, 0x80, 0, 96, 0])
        #expect(pageWithoutEVPD.fieldPointer == .fieldPointer(inCDB: true, byte: 2, bit: nil))
        let unknownPage = await fixture.run([0x12, 0x01, 0x86, 0, 96, 0])
        #expect(unknownPage.asc == .invalidFieldInCDB)
        #expect(unknownPage.fieldPointer == .fieldPointer(inCDB: true, byte: 2, bit: nil))
    }

    @Test func capacityAndLUNs() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        let ten = try ReadCapacity10Data(parsing: await fixture.run(CDB.readCapacity10()).bytes)
        #expect(ten.blockCount == UnitFixture.blockCount && ten.blockLength == 512)
        let sixteen = try ReadCapacity16Data(parsing: await fixture.run(CDB.readCapacity16()).bytes)
        #expect(sixteen.blockCount == UnitFixture.blockCount)
        #expect(sixteen.logicalBlockProvisioningManagementEnabled && sixteen.logicalBlockProvisioningReadZeros)
        let cut = await fixture.run(CDB.readCapacity16(allocationLength: 12))
        #expect(cut.bytes.count == 12)
        let lbaWithoutPMI = await fixture.run([0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0])
        #expect(lbaWithoutPMI.asc == .invalidFieldInCDB)

        let luns = try ReportLUNsData(parsing: await fixture.run(CDB.reportLUNs()).bytes)
        #expect(luns.luns == [LUN(number: 0)!, LUN(number: 3)!])
        let wellKnown = try ReportLUNsData(parsing: await fixture.run(CDB.reportLUNs(selectReport: 1)).bytes)
        #expect(wellKnown.luns.isEmpty)
        #expect(await fixture.run(CDB.reportLUNs(selectReport: 0x10)).fieldPointer == .fieldPointer(inCDB: true, byte: 2, bit: nil))
        #expect(await fixture.run(CDB.reportLUNs(allocationLength: 8)).fieldPointer == .fieldPointer(inCDB: true, byte: 6, bit: nil))
    }
}
