// UNMAP and WRITE SAME splitting shared by both SCSI engines, limits included.

import BlockDevice
import SCSI
import Testing

@Suite struct SCSICommandPlanTests {
    @Test func unmapSplitsLongRangesAndCapsDescriptorsPerCommand() {
        let commands = SCSICommandPlan.unmap(
            [BlockRange(lba: 0, blockCount: 10), BlockRange(lba: 100, blockCount: 3)],
            maximumBlocksPerDescriptor: 4,
            maximumDescriptors: 2
        )
        // 10 blocks → 4+4+2, then 3: four descriptors, two per command.
        #expect(commands.count == 2)
        #expect(commands.allSatisfy { $0.parameterList.count == 8 + 2 * 16 })
    }

    @Test func unlimitedDescriptorCountStillFitsOneParameterList() {
        // tgt reports 0xFFFFFFFF descriptors; 5000 one-block ranges need two lists of at most 4095.
        let ranges = (0..<5000).map { BlockRange(lba: UInt64($0) * 2, blockCount: 1) }
        let commands = SCSICommandPlan.unmap(ranges, maximumBlocksPerDescriptor: 1 << 20, maximumDescriptors: Int(UInt32.max))
        #expect(commands.count == 2)
        #expect(commands[0].parameterList.count == 8 + CDB.maximumUnmapDescriptors * 16)
        #expect(commands[1].parameterList.count == 8 + (5000 - CDB.maximumUnmapDescriptors) * 16)
    }

    @Test func zeroLimitsStillMakeProgress() {
        #expect(SCSICommandPlan.unmap([BlockRange(lba: 0, blockCount: 3)], maximumBlocksPerDescriptor: 0, maximumDescriptors: 0).count == 3)
        #expect(SCSICommandPlan.writeSame(lba: 0, blockCount: 3, unmap: false, maximumBlocks: 0).count == 3)
    }

    @Test func writeSameNeverSendsAZeroCount() {
        let cdbs = SCSICommandPlan.writeSame(lba: 10, blockCount: 150_000, unmap: true, maximumBlocks: nil)
        #expect(cdbs == [
            CDB.writeSame16(lba: 10, blockCount: 65536, unmap: true),
            CDB.writeSame16(lba: 10 + 65536, blockCount: 65536, unmap: true),
            CDB.writeSame16(lba: 10 + 131_072, blockCount: 18928, unmap: true),
        ])
        #expect(SCSICommandPlan.writeSame(lba: 0, blockCount: 0, unmap: false, maximumBlocks: 8).isEmpty)
    }
}
