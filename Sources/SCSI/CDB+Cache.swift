// SYNCHRONIZE CACHE(10) and (16) (SBC-4 §5.31, §5.32). A block count of zero
// means "from the LBA to the end of the medium", so the defaults flush everything.

extension CDB {
    /// SYNCHRONIZE CACHE(10). With `immediate` the device returns status before
    /// the flush finishes, which defeats the point for a barrier; off by default.
    public static func synchronizeCache10(lba: UInt32 = 0, blockCount: UInt16 = 0, immediate: Bool = false) -> [UInt8] {
        var cdb = blank(.synchronizeCache10, length: 10)
        cdb[1] = immediate ? 0x02 : 0
        cdb.storeBigEndian(lba, at: 2)
        cdb.storeBigEndian(blockCount, at: 7)
        return cdb
    }

    /// SYNCHRONIZE CACHE(16).
    public static func synchronizeCache16(lba: UInt64 = 0, blockCount: UInt32 = 0, immediate: Bool = false) -> [UInt8] {
        var cdb = blank(.synchronizeCache16, length: 16)
        cdb[1] = immediate ? 0x02 : 0
        cdb.storeBigEndian(lba, at: 2)
        cdb.storeBigEndian(blockCount, at: 10)
        return cdb
    }
}
