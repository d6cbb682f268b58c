// REPORT TARGET PORT GROUPS (SPC-5 §6.36): MAINTENANCE IN, service action 0x0A.

extension CDB {
    /// REPORT TARGET PORT GROUPS in the length-only format, which every ALUA target answers.
    public static func reportTargetPortGroups(allocationLength: UInt32 = 1024) -> [UInt8] {
        var cdb = blank(.maintenanceIn, length: 12)
        cdb[1] = 0x0A
        cdb.storeBigEndian(allocationLength, at: 6)
        return cdb
    }
}
