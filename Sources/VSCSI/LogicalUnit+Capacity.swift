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
            provisioningManagementEnabled: isThin,
            provisioningReadZeros: isThin && unmappedReadsZero
        ).encoded()
        return .data(data, allocationLength: Int(context.cdb.uint32(10)))
    }
}
