// READ CAPACITY(10) and (16) (SBC-4 §5.20, §5.21).

extension CDB {
    /// READ CAPACITY(10): 10 bytes; the LBA and PMI fields are obsolete and zero.
    public static func readCapacity10() -> [UInt8] {
        blank(.readCapacity10, length: 10)
    }

    /// READ CAPACITY(16), the SERVICE ACTION IN(16) command with action 0x10.
    /// The parameter data is 32 bytes long.
    public static func readCapacity16(allocationLength: UInt32 = 32) -> [UInt8] {
        var cdb = blank(.serviceActionIn16, length: 16)
        cdb[1] = 0x10
        cdb.storeBigEndian(allocationLength, at: 10)
        return cdb
    }
}
