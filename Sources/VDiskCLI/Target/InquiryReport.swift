// Gathers what `vdiskctl target inquiry` shows: standard INQUIRY data, the VPD pages a disk
// offers, and, on an ALUA logical unit (TPGS set), its target port groups and their states.

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
    /// REPORT TARGET PORT GROUPS, when TPGS says the unit has ALUA and it answered.
    var portGroups: [TargetPortGroup] = []
    /// Why the port groups are missing although TPGS is set.
    var portGroupsProblem: String?

    /// Sends one data-in command (CDB, its name, the allocation length) and returns the bytes.
    typealias Command = (_ cdb: [UInt8], _ name: String, _ length: Int) async throws -> [UInt8]

    static func gather(_ command: Command) async throws -> InquiryReport {
        func inquiry(_ page: VitalProductDataPage?) async throws -> [UInt8] {
            try await command(cdb(page: page), "INQUIRY", 255)
        }
        let standard = try StandardInquiryData(parsing: try await inquiry(nil))
        var report = InquiryReport(standard: standard)
        if standard.targetPortGroupSupport != 0 {
            do {
                report.portGroups = try TargetPortGroup.parseList(try await command(CDB.reportTargetPortGroups(), "REPORT TARGET PORT GROUPS", 1024))
            } catch {
                report.portGroupsProblem = "\(error)"
            }
        }
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

    /// A command on a bare native session: works on any LUN, a disk or not. A unit attention
    /// (the first command after login on most targets, or an ALUA change) is answered by
    /// sending the command again, a bounded number of times.
    static func command(_ session: ISCSISession, lun: UInt64, cdb: [UInt8], name: String, length: Int) async throws -> [UInt8] {
        var failure: SCSICommandError?
        for _ in 0..<4 {
            let result = try await session.execute(SCSITaskRequest(lun: lun, cdb: cdb, expectedDataInLength: length, operationName: name))
            if result.isGood {
                return Array(result.data.readableBytesView)
            }
            let sense = result.senseData.isEmpty ? nil : try? SenseData(parsing: result.senseData)
            let error = SCSICommandError(operation: name, status: SCSIStatus(rawValue: result.status), sense: sense)
            guard error.isUnitAttention else { throw error }
            failure = error
        }
        throw failure!
    }

    /// A command through an open block device's passthrough (the libiscsi engine).
    static func command(_ device: any SCSIPassthrough, cdb: [UInt8], name: String, length: Int) async throws -> [UInt8] {
        Array(try await device.passthrough(cdb, name: name, dataOut: nil, dataInLength: length).readableBytesView)
    }

    /// The target port group of the port this report came through (VPD 0x83), if named.
    var ownPortGroup: UInt16? {
        designators.lazy.compactMap(\.targetPortGroup).first
    }

    /// One line per target port group: id, state, this port's group marked.
    var portGroupLines: [String] {
        portGroups.map { group in
            var line = "target port group \(group.id): \(group.state)"
            if group.preferred { line += ", preferred" }
            line += ", ports " + (group.relativeTargetPorts.isEmpty ? "none" : group.relativeTargetPorts.map(String.init).joined(separator: " "))
            if group.id == ownPortGroup { line += " (this path)" }
            return line
        }
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
        if standard.targetPortGroupSupport != 0 {
            let modes = ["", "implicit", "explicit", "implicit and explicit"][Int(standard.targetPortGroupSupport & 3)]
            lines.append("ALUA: \(modes)")
            lines += portGroupLines
            if let portGroupsProblem { lines.append("target port groups unknown: \(portGroupsProblem)") }
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
        object["targetPortGroupSupport"] = Int(standard.targetPortGroupSupport)
        if standard.targetPortGroupSupport != 0 {
            object["targetPortGroups"] = portGroups.map { group -> [String: Any] in
                [
                    "id": Int(group.id),
                    "state": group.state.description,
                    "stateCode": Int(group.state.rawValue),
                    "preferred": group.preferred,
                    "relativeTargetPorts": group.relativeTargetPorts.map(Int.init),
                    "thisPath": group.id == ownPortGroup,
                ]
            }
            if let portGroupsProblem { object["targetPortGroupsProblem"] = portGroupsProblem }
        }
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
