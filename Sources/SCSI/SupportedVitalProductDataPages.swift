// The Supported VPD Pages page (0x00, SPC-5 §7.7.15): which pages INQUIRY can return.

public struct SupportedVitalProductDataPages: Sendable, Hashable {
    public var pages: [VitalProductDataPage]

    public init(parsing bytes: [UInt8]) throws(SCSIParseError) {
        let reader = try ByteReader.vitalProductDataPage(bytes, .supportedPages)
        var pages: [VitalProductDataPage] = []
        for offset in 4..<reader.count {
            pages.append(VitalProductDataPage(rawValue: try reader.uint8(at: offset)))
        }
        self.pages = pages
    }

    public func contains(_ page: VitalProductDataPage) -> Bool {
        pages.contains(page)
    }
}
