// INQUIRY (SPC-5 §6.7): standard data and the VPD pages 0x00, 0x80, 0x83, 0xB0,
// 0xB1 and 0xB2.

import NIOCore
import SCSI

extension LogicalUnit {
    /// The VPD pages INQUIRY answers, in the order page 0x00 lists them.
    static let vitalProductDataPages: [UInt8] = [0x00, 0x80, 0x83, 0xB0, 0xB1, 0xB2]

    func inquiry(_ context: CommandContext) throws -> CommandResult {
        let cdb = context.cdb
        let allocationLength = Int(cdb.uint16(3))
        let evpd = cdb[1] & 0x01 != 0
        let pageCode = cdb[2]
        guard evpd else {
            if pageCode != 0 { throw CommandFailure.invalidFieldInCDB(byte: 2) }
            return .data(standardInquiryData(), allocationLength: allocationLength)
        }
        let page: [UInt8]
        switch pageCode {
        case 0x00: page = vpdPage(0x00, Self.vitalProductDataPages)
        case 0x80: page = vpdPage(0x80, Array(identity.serialNumber.utf8))
        case 0x83: page = vpdPage(0x83, deviceIdentificationDesignators(for: context.nexus).flatMap { $0.encoded() })
        case 0xB0: page = vpdPage(0xB0, blockLimitsParameters())
        case 0xB1: page = vpdPage(0xB1, blockDeviceCharacteristicsParameters())
        case 0xB2: page = vpdPage(0xB2, logicalBlockProvisioningParameters())
        default: throw CommandFailure.invalidFieldInCDB(byte: 2)
        }
        return .data(page, allocationLength: allocationLength)
    }

    /// The 96 bytes of standard INQUIRY data.
    func standardInquiryData() -> [UInt8] {
        var data = [UInt8](repeating: 0, count: 96)
        data[0] = 0x00  // connected direct-access block device
        // SPC-4: libiscsi and most initiators accept 4-6 and test SPC-4 behaviour from 6.
        data[2] = 0x06
        data[3] = 0x12  // HISUP, RESPONSE DATA FORMAT 2
        data[4] = UInt8(data.count - 5)
        data[5] = 0x08  // 3PC: EXTENDED COPY
        data[6] = 0x10  // MULTIP: the export may offer the unit on several ports
        data[7] = 0x02  // CMDQUE
        data.replaceSubrange(8..<16, with: [UInt8].paddedASCII(identity.vendor, width: 8))
        data.replaceSubrange(16..<32, with: [UInt8].paddedASCII(identity.product, width: 16))
        data.replaceSubrange(32..<36, with: [UInt8].paddedASCII(identity.revision, width: 4))
        // VERSION DESCRIPTORS: SAM-5, SPC-4, SBC-3.
        for (index, descriptor) in [UInt16(0x00A0), 0x0460, 0x04C0].enumerated() {
            data.put(descriptor, at: 58 + 2 * index)
        }
        return data
    }

    private func vpdPage(_ code: UInt8, _ body: [UInt8]) -> [UInt8] {
        var header: [UInt8] = [0x00, code, 0, 0]
        header.put(UInt16(clamping: body.count), at: 2)
        return header + body
    }

    /// The unit's names for VPD 0x83: NAA, T10 vendor ID, and the port the nexus came in on.
    func deviceIdentificationDesignators(for nexus: Nexus) -> [Designator] {
        let t10 = [UInt8].paddedASCII(identity.vendor, width: 8) + Array(identity.serialNumber.utf8)
        var port = [UInt8](repeating: 0, count: 4)
        port.put(nexus.relativeTargetPort, at: 2)
        return [
            Designator(codeSet: .binary, association: .logicalUnit, designatorType: .naa, identifier: identity.naaIdentifier),
            Designator(codeSet: .ascii, association: .logicalUnit, designatorType: .t10VendorID, identifier: t10),
            Designator(codeSet: .binary, association: .targetPort, designatorType: .relativeTargetPort, identifier: port),
        ]
    }

    /// Block Limits (SBC-4 §6.6.4), after the 4-byte header: 60 bytes.
    func blockLimitsParameters() -> [UInt8] {
        let limits = options.limits
        var body = [UInt8](repeating: 0, count: 60)
        // WSNZ clear: WRITE SAME with NUMBER OF LOGICAL BLOCKS 0 writes to the last block.
        body[1] = limits.maximumCompareAndWriteLength
        let perPhysicalBlock = logicalBlocksPerPhysicalBlock
        body.put(UInt16(perPhysicalBlock), at: 2)  // OPTIMAL TRANSFER LENGTH GRANULARITY
        body.put(limits.maximumTransferLength, at: 4)
        body.put(limits.optimalTransferLength, at: 8)
        body.put(limits.maximumTransferLength, at: 12)  // MAXIMUM PREFETCH LENGTH
        if isThin {
            body.put(limits.maximumUnmapLBACount, at: 16)
            body.put(limits.maximumUnmapDescriptorCount, at: 20)
            body.put(perPhysicalBlock, at: 24)  // OPTIMAL UNMAP GRANULARITY (UGAVALID 0: any alignment)
        }
        body.put(limits.maximumWriteSameLength, at: 32)
        body.put(limits.maximumAtomicTransferLength, at: 40)
        body.put(UInt32(1), at: 48)  // ATOMIC TRANSFER LENGTH GRANULARITY
        return body
    }

    /// Block Device Characteristics (SBC-4 §6.6.2): non-rotating, no form factor; WABEREQ and
    /// WACEREQ 01b: after BLOCK ERASE or CRYPTOGRAPHIC ERASE, reads succeed (zeros, or deallocated
    /// blocks that read as zeros) before anything is written.
    func blockDeviceCharacteristicsParameters() -> [UInt8] {
        var body = [UInt8](repeating: 0, count: 60)
        body.put(UInt16(1), at: 0)
        body[3] = 0x50
        return body
    }

    /// Logical Block Provisioning (SBC-4 §6.6.7): UNMAP and WRITE SAME deallocate on thin units.
    func logicalBlockProvisioningParameters() -> [UInt8] {
        var body = [UInt8](repeating: 0, count: 4)
        if isThin {
            body[1] = 0xE0 | (unmappedReadsZero ? 0x04 : 0)  // LBPU, LBPWS, LBPWS10, LBPRZ
            body[2] = 0x02  // PROVISIONING TYPE: thin
        }
        return body
    }
}
