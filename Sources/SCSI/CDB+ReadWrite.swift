// READ, WRITE (SBC-4 §5.15-5.17, §5.42-5.44) and COMPARE AND WRITE (SBC-4 §5.3).
// DPO asks the device not to keep the data in its cache; FUA makes the
// transfer reach the medium before status is returned.

extension CDB {
    /// READ(10): 32-bit LBA, up to 65535 blocks.
    public static func read10(lba: UInt32, blockCount: UInt16, fua: Bool = false, dpo: Bool = false) -> [UInt8] {
        transfer10(.read10, lba: lba, blockCount: blockCount, fua: fua, dpo: dpo)
    }

    /// WRITE(10): 32-bit LBA, up to 65535 blocks.
    public static func write10(lba: UInt32, blockCount: UInt16, fua: Bool = false, dpo: Bool = false) -> [UInt8] {
        transfer10(.write10, lba: lba, blockCount: blockCount, fua: fua, dpo: dpo)
    }

    /// READ(16): 64-bit LBA, 32-bit block count.
    public static func read16(lba: UInt64, blockCount: UInt32, fua: Bool = false, dpo: Bool = false) -> [UInt8] {
        transfer16(.read16, lba: lba, blockCount: blockCount, fua: fua, dpo: dpo)
    }

    /// WRITE(16): 64-bit LBA, 32-bit block count.
    public static func write16(lba: UInt64, blockCount: UInt32, fua: Bool = false, dpo: Bool = false) -> [UInt8] {
        transfer16(.write16, lba: lba, blockCount: blockCount, fua: fua, dpo: dpo)
    }

    /// COMPARE AND WRITE: the Data-Out buffer holds `blockCount` blocks to
    /// compare followed by `blockCount` blocks to write (2 × blockCount blocks).
    public static func compareAndWrite(lba: UInt64, blockCount: UInt8, fua: Bool = false, dpo: Bool = false) -> [UInt8] {
        var cdb = blank(.compareAndWrite, length: 16)
        cdb[1] = cacheBits(fua: fua, dpo: dpo)
        cdb.storeBigEndian(lba, at: 2)
        cdb[13] = blockCount
        return cdb
    }

    private static func transfer10(_ code: OperationCode, lba: UInt32, blockCount: UInt16, fua: Bool, dpo: Bool) -> [UInt8] {
        var cdb = blank(code, length: 10)
        cdb[1] = cacheBits(fua: fua, dpo: dpo)
        cdb.storeBigEndian(lba, at: 2)
        cdb.storeBigEndian(blockCount, at: 7)
        return cdb
    }

    private static func transfer16(_ code: OperationCode, lba: UInt64, blockCount: UInt32, fua: Bool, dpo: Bool) -> [UInt8] {
        var cdb = blank(code, length: 16)
        cdb[1] = cacheBits(fua: fua, dpo: dpo)
        cdb.storeBigEndian(lba, at: 2)
        cdb.storeBigEndian(blockCount, at: 10)
        return cdb
    }

    /// Byte 1 of the read and write CDBs: DPO is bit 4, FUA bit 3.
    private static func cacheBits(fua: Bool, dpo: Bool) -> UInt8 {
        (dpo ? 0x10 : 0) | (fua ? 0x08 : 0)
    }
}
