// The four-byte header every VPD page shares (SPC-5 §7.7.1), checked in one place.

extension ByteReader {
    /// Checks the page code and that the whole page (4 + PAGE LENGTH bytes)
    /// arrived; returns a reader limited to the page.
    static func vitalProductDataPage(
        _ bytes: [UInt8],
        _ page: VitalProductDataPage
    ) throws(SCSIParseError) -> ByteReader {
        let structure = "\(page.name) VPD page"
        let header = ByteReader(bytes, structure: structure)
        let pageCode = try header.uint8(at: 1)
        let pageLength = Int(try header.uint16(at: 2))
        guard pageCode == page.rawValue else {
            throw header.invalid("page code is 0x\(pageCode.hexDigits), expected 0x\(page.rawValue.hexDigits)")
        }
        return try header.subReader(at: 0, count: 4 + pageLength, structure: structure)
    }

    /// A field of an older, shorter page revision reads as zero ("not reported").
    func uint8IfPresent(at offset: Int) throws(SCSIParseError) -> UInt8 {
        offset + 1 <= count ? try uint8(at: offset) : 0
    }

    func uint16IfPresent(at offset: Int) throws(SCSIParseError) -> UInt16 {
        offset + 2 <= count ? try uint16(at: offset) : 0
    }

    func uint32IfPresent(at offset: Int) throws(SCSIParseError) -> UInt32 {
        offset + 4 <= count ? try uint32(at: offset) : 0
    }

    func uint64IfPresent(at offset: Int) throws(SCSIParseError) -> UInt64 {
        offset + 8 <= count ? try uint64(at: offset) : 0
    }
}
