// INQUIRY (SPC-5 §6.7) for standard data and for vital product data pages.

extension CDB {
    /// INQUIRY for the standard data. 36 bytes hold every field this module
    /// decodes; the default asks for more so version descriptors come too.
    public static func inquiry(allocationLength: UInt16 = 96) -> [UInt8] {
        var cdb = blank(.inquiry, length: 6)
        cdb.storeBigEndian(allocationLength, at: 3)
        return cdb
    }

    /// INQUIRY with EVPD set for one vital product data page.
    public static func inquiry(page: VitalProductDataPage, allocationLength: UInt16 = 255) -> [UInt8] {
        var cdb = blank(.inquiry, length: 6)
        cdb[1] = 0x01
        cdb[2] = page.rawValue
        cdb.storeBigEndian(allocationLength, at: 3)
        return cdb
    }
}
