// How block operations become SCSI commands within a device's limits, shared by every
// engine that speaks SCSI (the native LUN, the libiscsi device) so their splitting agrees.

import NIOCore
import SCSI

/// Cuts UNMAP and WRITE SAME requests into commands a device accepts.
public enum SCSICommandPlan {
    /// UNMAP commands (CDB, parameter list) covering `ranges`: descriptors of at most
    /// `maximumBlocksPerDescriptor` blocks, at most `maximumDescriptors` per command and never
    /// more than one parameter list can hold. Callers check the ranges against the device first.
    public static func unmap(
        _ ranges: [BlockRange],
        maximumBlocksPerDescriptor: Int,
        maximumDescriptors: Int
    ) -> [(cdb: [UInt8], parameterList: [UInt8])] {
        let blocksPerDescriptor = max(1, maximumBlocksPerDescriptor)
        var descriptors: [UnmapBlockDescriptor] = []
        for range in ranges {
            var lba = range.lba
            var remaining = Int(range.blockCount)
            while remaining > 0 {
                let count = min(remaining, blocksPerDescriptor)
                descriptors.append(UnmapBlockDescriptor(lba: lba, blockCount: UInt32(count)))
                lba += UInt64(count)
                remaining -= count
            }
        }
        // Targets may report "no limit" (0xFFFFFFFF); a parameter list still holds only so many.
        let perCommand = max(1, min(maximumDescriptors, CDB.maximumUnmapDescriptors))
        return stride(from: 0, to: descriptors.count, by: perCommand).map { start in
            CDB.unmap(Array(descriptors[start..<min(descriptors.count, start + perCommand)]))
        }
    }

    /// WRITE SAME(16) CDBs covering `blockCount` blocks from `lba`, each at most `maximumBlocks`
    /// (65536 when the device names no limit). A count of 0 means "to the end" on some targets,
    /// so it is never sent.
    public static func writeSame(lba: UInt64, blockCount: Int, unmap: Bool, maximumBlocks: Int?) -> [[UInt8]] {
        let chunk = max(1, maximumBlocks ?? 65536)
        return stride(from: 0, to: blockCount, by: chunk).map { done in
            CDB.writeSame16(lba: lba + UInt64(done), blockCount: UInt32(min(chunk, blockCount - done)), unmap: unmap)
        }
    }
}
