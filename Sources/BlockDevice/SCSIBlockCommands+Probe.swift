// What both SCSI engines ask a logical unit at open in the same way: its capacity, block
// size and provisioning bits, its block limits page and its provisioning page. Each engine
// keeps its own COMPARE AND WRITE trial, since the targets mislead the engines' probes
// differently, and its own persistent-reservations probe, which takes one answer as it
// comes instead of going through `runCommand`'s retries (see the engines' comments).

import NIOCore
import SCSI

extension SCSIBlockCommands {
    /// READ CAPACITY(16), checked: blocks must be a power of two from 512 bytes.
    public func readCapacity() async throws -> ReadCapacity16Data {
        let data = try await runCommand(CDB.readCapacity16(), name: "READ CAPACITY(16)", dataOut: nil, dataInLength: 32)
        let capacity: ReadCapacity16Data
        do {
            capacity = try ReadCapacity16Data(parsing: Array(data.readableBytesView))
        } catch {
            throw BlockDeviceError(.deviceError, "\(unitDescription) answered READ CAPACITY(16) with bad data", underlying: error)
        }
        guard capacity.blockLength >= 512, capacity.blockLength & (capacity.blockLength - 1) == 0 else {
            throw BlockDeviceError(
                .notSupported,
                "\(unitDescription) has \(capacity.blockLength)-byte blocks; only powers of two from 512 are supported"
            )
        }
        return capacity
    }

    /// The geometry READ CAPACITY(16) gives, and what it says of thin provisioning: UNMAP when
    /// the unit manages provisioning (LBPME), unmapped blocks reading zeros (LBPRZ).
    public func probeGeometry() async throws -> (geometry: BlockGeometry, provisioning: BlockDeviceCapabilities) {
        let capacity = try await readCapacity()
        var provisioning: BlockDeviceCapabilities = []
        if capacity.logicalBlockProvisioningManagementEnabled {
            provisioning.insert(.unmap)
            if capacity.logicalBlockProvisioningReadZeros { provisioning.insert(.unmappedReadsZero) }
        }
        return (BlockGeometry(blockSize: Int(capacity.blockLength), blockCount: capacity.blockCount), provisioning)
    }

    /// The block limits page (VPD B0) read into `blockLimits`, and the capabilities that page and
    /// the provisioning page (VPD B2, asked only when `provisioningEnabled`) allow. A page the unit
    /// lacks or garbles leaves its part as it was; UNMAP is left out without a limit for it.
    public func probeLimitsAndProvisioning(
        provisioningEnabled: Bool
    ) async -> (limits: SCSIBlockLimits, capabilities: BlockDeviceCapabilities) {
        var capabilities: BlockDeviceCapabilities = [.writeSame, .forceUnitAccess]
        var limits = blockLimits
        if let page = try? await inquiryPage(.blockLimits), let blockLimits = try? BlockLimitsPage(parsing: page) {
            if blockLimits.maximumTransferLength > 0 { limits.maximumTransferBlocks = Int(blockLimits.maximumTransferLength) }
            limits.maximumUnmapBlocks = Int(blockLimits.maximumUnmapLBACount)
            limits.maximumUnmapDescriptors = Int(blockLimits.maximumUnmapBlockDescriptorCount)
            if blockLimits.maximumWriteSameLength > 0 { limits.maximumWriteSameBlocks = Int(clamping: blockLimits.maximumWriteSameLength) }
            limits.maximumCompareAndWriteBlocks = Int(blockLimits.maximumCompareAndWriteLength)
        }
        if provisioningEnabled, let page = try? await inquiryPage(.logicalBlockProvisioning),
           let provisioning = try? LogicalBlockProvisioningPage(parsing: page)
        {
            if provisioning.unmapSupported { capabilities.insert(.unmap) }
            if provisioning.writeSame16UnmapSupported { capabilities.insert(.writeSameUnmap) }
            if provisioning.unmappedBlocksReadZero { capabilities.insert(.unmappedReadsZero) }
        }
        if limits.maximumUnmapDescriptors == 0 || limits.maximumUnmapBlocks == 0 {
            capabilities.remove(.unmap)
        }
        return (limits, capabilities)
    }

    private func inquiryPage(_ page: VitalProductDataPage) async throws -> [UInt8] {
        let data = try await runCommand(CDB.inquiry(page: page), name: "INQUIRY", dataOut: nil, dataInLength: 255)
        return Array(data.readableBytesView)
    }
}
