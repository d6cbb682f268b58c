// SYNCHRONIZE CACHE and PRE-FETCH (SBC-4 §5.22-5.23, §5.34-5.35).

import BlockDevice
import NIOCore
import SCSI

extension LogicalUnit {
    func synchronizeCache(_ context: CommandContext) async throws -> CommandResult {
        let fields = TransferFields(context.cdb, kind: context.descriptor.kind)
        try checkRange(lba: fields.lba, count: fields.blockCount)
        // The device flushes as a whole; a range (or 0, "to the end") is covered by that.
        try await device.flush()
        return .good
    }

    /// Reads the blocks so they sit in the host's page cache; CONDITION MET says they
    /// fit (up to MAXIMUM PREFETCH LENGTH), GOOD that they did not all.
    func preFetch(_ context: CommandContext) async throws -> CommandResult {
        let fields = TransferFields(context.cdb, kind: context.descriptor.kind)
        try checkRange(lba: fields.lba, count: fields.blockCount)
        let count = fields.blockCount == 0 ? geometry.blockCount - fields.lba : fields.blockCount
        let limit = UInt64(options.limits.maximumTransferLength)
        let immediate = context.cdb[1] & 0x02 != 0
        guard count <= limit else { return .good }
        if !immediate && count > 0 {
            _ = try await rangeLocks.withLock(lba: fields.lba, count: count, exclusive: false, nexus: context.nexus) {
                try await device.read(at: fields.lba, blockCount: Int(count))
            }
        }
        return CommandResult(status: .conditionMet)
    }
}
