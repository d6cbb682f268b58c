// What both SCSI engines ask a logical unit at open in the same way: its capacity, block
// size and provisioning bits, its block limits page and its provisioning page, in one order.
// Each engine brings its own COMPARE AND WRITE trial, since the targets mislead the engines'
// probes differently.

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

    /// Everything the engines probe after the geometry, in one order: the limits and
    /// provisioning pages, the engine's own COMPARE AND WRITE trial (given the limits the
    /// unit advertised), and the persistent-reservations probe. Returns the limits with the
    /// COMPARE AND WRITE length settled, and the capabilities found.
    /// The provisioning page is asked only when READ CAPACITY(16) said the unit manages
    /// provisioning (UNMAP among `capabilities` after `probeGeometry`).
    public func probeCapabilities(
        compareAndWriteWorks: (SCSIBlockLimits) async -> Bool
    ) async -> (limits: SCSIBlockLimits, capabilities: BlockDeviceCapabilities) {
        var (limits, capabilities) = await probeLimitsAndProvisioning(provisioningEnabled: self.capabilities.contains(.unmap))
        if await compareAndWriteWorks(limits) {
            capabilities.insert(.compareAndWrite)
        }
        limits.settleCompareAndWrite(capabilities)
        if await answersPersistentReserveIn() {
            capabilities.insert(.persistentReservations)
        }
        return (limits, capabilities)
    }

    /// Whether one PERSISTENT RESERVE IN (REPORT CAPABILITIES) is answered GOOD, taken as it
    /// comes (`isAnsweredGood`), not through `runCommand`, which retries UNIT ATTENTION and
    /// throws on other statuses: a probe on `runCommand` was tried and reverted (commit
    /// 09fa166), suspected of two-host failures whose cause later proved to be tgt refusing a
    /// replaced session's writes (DATASTORE.md); the one-answer probe is what both engines used.
    public func answersPersistentReserveIn() async -> Bool {
        await isAnsweredGood(CDB.persistentReserveIn(.reportCapabilities, allocationLength: 8), name: "PERSISTENT RESERVE IN", dataInLength: 8)
    }

    private func inquiryPage(_ page: VitalProductDataPage) async throws -> [UInt8] {
        let data = try await runCommand(CDB.inquiry(page: page), name: "INQUIRY", dataOut: nil, dataInLength: 255)
        return Array(data.readableBytesView)
    }
}
