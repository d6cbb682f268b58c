// REPORT LUNS (SPC-5 §6.33): the logical units a target offers this initiator.

extension CDB {
    /// REPORT LUNS. `selectReport` 0x00 lists the logical units of the nexus,
    /// 0x01 well-known ones only, 0x02 all. SPC-5 wants an allocation length of 16 or more.
    public static func reportLUNs(selectReport: UInt8 = 0x00, allocationLength: UInt32 = 4096) -> [UInt8] {
        var cdb = blank(.reportLUNs, length: 12)
        cdb[2] = selectReport
        cdb.storeBigEndian(allocationLength, at: 6)
        return cdb
    }
}
