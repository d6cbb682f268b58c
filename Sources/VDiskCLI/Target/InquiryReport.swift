// Gathers what `vdiskctl target inquiry` shows: standard INQUIRY data plus the VPD pages a disk offers.

import BlockDevice
import ISCSI
import SCSI

/// A LUN's self-description, gathered with INQUIRY commands.
struct InquiryReport {
    var standard: StandardInquiryData
    var supportedPages: [VitalProductDataPage] = []
    var serialNumber: String?
    var designators: [Designator] = []
    var blockLimits: BlockLimitsPage?
    var provisioning: LogicalBlockProvisioningPage?

    /// Sends one INQUIRY (standard data for a nil page) and returns the bytes that came back.
    typealias Inquiry = (_ page: VitalProductDataPage?) async throws -> [UInt8]

    static func gather(_ inquiry: Inquiry) async throws -> InquiryReport {
        let standard = try StandardInquiryData(parsing: try await inquiry(nil))
        var report = InquiryReport(standard: standard)
        guard let pages = try? SupportedVitalProductDataPages(parsing: try await inquiry(.supportedPages)) else {
            return report
        }
        report.supportedPages = pages.pages
        for page in pages.pages {
            // A page the target lists but answers badly is left out rather than failing the whole report.
            guard let bytes = try? await inquiry(page) else { continue }
            switch page {
            case .unitSerialNumber: report.serialNumber = try? UnitSerialNumberPage(parsing: bytes).serialNumber
            case .deviceIdentification: report.designators = (try? DeviceIdentificationPage(parsing: bytes).designators) ?? []
            case .blockLimits: report.blockLimits = try? BlockLimitsPage(parsing: bytes)
            case .logicalBlockProvisioning: report.provisioning = try? LogicalBlockProvisioningPage(parsing: bytes)
            default: break
            }
        }
        return report
    }

    /// The CDB for `page`, or for the standard data when nil.
    static func cdb(page: VitalProductDataPage?) -> [UInt8] {
        page.map { CDB.inquiry(page: $0) } ?? CDB.inquiry(allocationLength: 255)
    }

    /// INQUIRY on a bare native session: works on any LUN, a disk or not.
    static func inquiry(_ session: ISCSISession, lun: UInt64, page: VitalProductDataPage?) async throws -> [UInt8] {
        let cdb = cdb(page: page)
        let result = try await session.execute(SCSITaskRequest(lun: lun, cdb: cdb, expectedDataInLength: 255, operationName: "INQUIRY"))
        guard result.isGood else {
            let sense = result.senseData.isEmpty ? nil : try? SenseData(parsing: result.senseData)
            throw SCSICommandError(operation: "INQUIRY", status: SCSIStatus(rawValue: result.status), sense: sense)
        }
        return Array(result.data.readableBytesView)
    }

    /// INQUIRY through an open block device's passthrough (the libiscsi engine).
    static func inquiry(_ device: any SCSIPassthrough, page: VitalProductDataPage?) async throws -> [UInt8] {
        Array(try await device.passthrough(cdb(page: page), name: "INQUIRY", dataOut: nil, dataInLength: 255).readableBytesView)
    }

    var text: String {
        var lines = [
            "vendor \(standard.vendorIdentification), product \(standard.productIdentification), revision \(standard.productRevisionLevel)",
            "device type \(standard.peripheralDeviceType), qualifier \(standard.peripheralQualifier), SPC version 0x\(String(standard.version, radix: 16))",
            "command queueing \(standard.commandQueueing ? "yes" : "no"), third-party copy \(standard.thirdPartyCopy ? "yes" : "no")",
        ]
        if let serialNumber { lines.append("serial number \(serialNumber)") }
        for designator in designators { lines.append("designator \(designator)") }
        if let limits = blockLimits {
            lines.append(
                "block limits: max transfer \(limits.maximumTransferLength) blocks, max unmap \(limits.maximumUnmapLBACount) blocks in \(limits.maximumUnmapBlockDescriptorCount) descriptors, max compare-and-write \(limits.maximumCompareAndWriteLength) blocks"
            )
        }
        if let provisioning {
            lines.append(
                "provisioning: UNMAP \(provisioning.unmapSupported ? "yes" : "no"), WRITE SAME(16) UNMAP \(provisioning.writeSame16UnmapSupported ? "yes" : "no"), unmapped reads zero \(provisioning.unmappedBlocksReadZero ? "yes" : "no")"
            )
        }
        if !supportedPages.isEmpty {
            lines.append("VPD pages: " + supportedPages.map { "0x" + String($0.rawValue, radix: 16) }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }

    var json: [String: Any] {
        var object: [String: Any] = [
            "vendor": standard.vendorIdentification,
            "product": standard.productIdentification,
            "revision": standard.productRevisionLevel,
            "deviceType": Int(standard.peripheralDeviceType.rawValue),
            "vpdPages": supportedPages.map { Int($0.rawValue) },
            "designators": designators.map { "\($0)" },
        ]
        if let serialNumber { object["serialNumber"] = serialNumber }
        if let limits = blockLimits {
            object["blockLimits"] = [
                "maximumTransferLength": limits.maximumTransferLength,
                "maximumUnmapLBACount": limits.maximumUnmapLBACount,
                "maximumUnmapBlockDescriptorCount": limits.maximumUnmapBlockDescriptorCount,
                "maximumCompareAndWriteLength": limits.maximumCompareAndWriteLength,
            ]
        }
        if let provisioning {
            object["provisioning"] = [
                "unmap": provisioning.unmapSupported,
                "writeSame16Unmap": provisioning.writeSame16UnmapSupported,
                "unmappedReadsZero": provisioning.unmappedBlocksReadZero,
            ]
        }
        return object
    }
}
