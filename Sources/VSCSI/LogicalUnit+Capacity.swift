// READ CAPACITY(10/16) (SBC-4 §5.20-5.21).

import NIOCore
import SCSI

extension LogicalUnit {
    func readCapacity10(_ context: CommandContext) throws -> CommandResult {
        // SBC-3: without PMI the LOGICAL BLOCK ADDRESS field must be zero.
        if context.cdb[8] & 0x01 == 0 && context.cdb.uint32(2) != 0 {
            throw CommandFailure.invalidFieldInCDB(byte: 2)
        }
        let geometry = self.geometry
        let data = ReadCapacity10Data(blockCount: geometry.blockCount, blockLength: UInt32(geometry.blockSize)).encoded()
        return .data(data, allocationLength: data.count)
    }

    func readCapacity16(_ context: CommandContext) -> CommandResult {
        let geometry = self.geometry
        let data = ReadCapacity16Data(
            blockCount: geometry.blockCount,
            blockLength: UInt32(geometry.blockSize),
            logicalBlocksPerPhysicalBlockExponent: logicalBlocksPerPhysicalBlockExponent,
            provisioningManagementEnabled: isThin,
            provisioningReadZeros: isThin && unmappedReadsZero
        ).encoded()
        return .data(data, allocationLength: Int(context.cdb.uint32(10)))
    }

    /// LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT: log2 of logical blocks per physical
    /// block, 0 when the physical block is no larger than the logical one (or not a
    /// power-of-two multiple of it), at most 15 as the field allows.
    var logicalBlocksPerPhysicalBlockExponent: UInt8 {
        let ratio = options.physicalBlockSize / geometry.blockSize
        guard ratio > 1, ratio & (ratio - 1) == 0, options.physicalBlockSize % geometry.blockSize == 0 else { return 0 }
        return UInt8(min(15, ratio.trailingZeroBitCount))
    }

    /// Logical blocks per physical block: 1 << LBPPBE.
    var logicalBlocksPerPhysicalBlock: UInt32 { 1 << UInt32(logicalBlocksPerPhysicalBlockExponent) }
}
