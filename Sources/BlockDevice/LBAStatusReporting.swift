// An optional face a block device may show so GET LBA STATUS can tell mapped blocks
// from deallocated ones; without it every block is reported mapped. It lives here so a
// device can adopt it in its own module (FileBlockDevice does, with SEEK_DATA/SEEK_HOLE).

/// A device that knows which of its blocks are allocated.
public protocol LBAStatusReporting: BlockDevice {
    /// Whether the block at `lba` is mapped, and how many blocks from `lba` on (at
    /// least 1, at most `limit`) share that state.
    func provisioningStatus(at lba: UInt64, limit: UInt64) async throws -> (mapped: Bool, blockCount: UInt64)
}
