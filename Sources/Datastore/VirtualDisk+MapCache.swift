// Filling an open disk's map cache ahead of I/O, so a benchmark (or a latency-sensitive
// guest) maps every block without a LUN read.

extension VirtualDisk {
    /// Reads every pointer page of the disk's block map into the map cache, as far as its
    /// byte bound allows; `mapCacheBytes` then tells what the whole map costs in memory.
    ///
    /// Entry `e` of a pointer block lives in page `e / 509`, and both indirect regions start
    /// on a multiple of 509 entries past the direct pointers, so one logical block in every
    /// 509 lands in each leaf page exactly once (passing through its upper page on the way).
    public func warmMapCache() async throws {
        try checkUsable("warming the map cache", writing: false)
        let fileBlock = UInt64(datastore.fileBlockSize)
        let blocks = (size + fileBlock - 1) / fileBlock
        for logical in stride(from: UInt64(VolumeLayout.directPointers), to: blocks, by: VolumeLayout.pointersPerPage) {
            _ = try await mapped(logical)
        }
    }
}
