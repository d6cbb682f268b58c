// GET LBA STATUS for a virtual disk: its block map says which file blocks hold data, so
// a run of mapped or deallocated blocks is a run of allocated or unallocated file blocks.

import BlockDevice

extension VirtualDisk: LBAStatusReporting {
    /// File blocks looked up for one answer; a longer run is reported in pieces, which
    /// GET LBA STATUS allows (the initiator asks again from where the answer ended).
    static let maximumFileBlocksPerStatus: UInt64 = 4096

    /// Whether the block at `lba` lies in an allocated file block, and how many blocks
    /// from `lba` on (at most `limit`) share that state. A block of a partly unmapped file
    /// block is mapped: the file block stays allocated and the unmapped part reads zeros.
    public func provisioningStatus(at lba: UInt64, limit: UInt64) async throws -> (mapped: Bool, blockCount: UInt64) {
        try checkUsable("get LBA status", writing: false)
        let geometry = self.geometry
        guard lba < geometry.blockCount, limit > 0 else {
            throw BlockDeviceError(.outOfRange, "LBA status at block \(lba) is past the end of disk '\(name)' (\(geometry.blockCount) blocks)")
        }
        let perFileBlock = UInt64(datastore.fileBlockSize / geometry.blockSize)
        let end = min(geometry.blockCount, lba + min(limit, geometry.blockCount - lba))
        var logical = lba / perFileBlock
        let isMapped = try await mapped(logical) != 0
        var walked: UInt64 = 1
        // The first block of the file block after the last one found in the same state.
        var next = (logical + 1) * perFileBlock
        while next < end && walked < Self.maximumFileBlocksPerStatus {
            logical += 1
            guard (try await mapped(logical) != 0) == isMapped else { break }
            next += perFileBlock
            walked += 1
        }
        return (isMapped, min(next, end) - lba)
    }
}
