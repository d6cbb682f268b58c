// One mode page as it appears in MODE SENSE data (SPC-5 §7.5.7), undecoded:
// page code, optional subpage, and its parameter bytes.

public struct ModePage: Sendable, Hashable {
    public static let cachingPageCode: UInt8 = 0x08
    public static let controlPageCode: UInt8 = 0x0A

    /// PAGE CODE (6 bits).
    public var pageCode: UInt8
    /// SUBPAGE CODE, nil for a page_0 format page (SPF clear).
    public var subpageCode: UInt8?
    /// PS: the page can be saved.
    public var parametersSaveable: Bool
    /// The mode parameters after the page header (2 bytes, or 4 for a subpage).
    public var parameters: [UInt8]

    public init(pageCode: UInt8, subpageCode: UInt8? = nil, parametersSaveable: Bool = false, parameters: [UInt8]) {
        self.pageCode = pageCode
        self.subpageCode = subpageCode
        self.parametersSaveable = parametersSaveable
        self.parameters = parameters
    }

    /// Reads one page starting at `offset`; returns it and its total length.
    static func parse(_ reader: ByteReader, at offset: Int) throws(SCSIParseError) -> (page: ModePage, length: Int) {
        let first = try reader.uint8(at: offset)
        let subpageFormat = first & 0x40 != 0
        let headerLength = subpageFormat ? 4 : 2
        guard offset + headerLength <= reader.count else {
            throw reader.invalid("mode page 0x\((first & 0x3F).hexDigits) at byte \(offset) is cut off inside its header")
        }
        let pageLength = subpageFormat
            ? Int(try reader.uint16(at: offset + 2))
            : Int(try reader.uint8(at: offset + 1))
        guard offset + headerLength + pageLength <= reader.count else {
            throw reader.invalid(
                "mode page 0x\((first & 0x3F).hexDigits) at byte \(offset) claims \(pageLength) bytes, past the mode data length"
            )
        }
        let page = ModePage(
            pageCode: first & 0x3F,
            subpageCode: subpageFormat ? try reader.uint8(at: offset + 1) : nil,
            parametersSaveable: first & 0x80 != 0,
            parameters: try reader.bytes(at: offset + headerLength, count: pageLength)
        )
        return (page, headerLength + pageLength)
    }
}
