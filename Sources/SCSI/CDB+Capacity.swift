// READ CAPACITY(10) and (16) (SBC-4 §5.20, §5.21), and REPORT LUNS (SPC-5 §6.33).

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

    /// REPORT LUNS. `selectReport` 0x00 lists the logical units of the nexus,
    /// 0x01 well-known ones only, 0x02 all. SPC-5 wants an allocation length of 16 or more.
    public static func reportLUNs(selectReport: UInt8 = 0x00, allocationLength: UInt32 = 4096) -> [UInt8] {
        var cdb = blank(.reportLUNs, length: 12)
        cdb[2] = selectReport
        cdb.storeBigEndian(allocationLength, at: 6)
        return cdb
    }
}
