// MODE SENSE(10) parameter data (SPC-5 §7.5.6): the 8-byte header, block
// descriptors and mode pages, with the Caching and Control pages decoded.

public struct ModeSenseData: Sendable, Hashable {
    public var mediumType: UInt8
    /// DEVICE-SPECIFIC PARAMETER; for a disk, WP is bit 7 and DPOFUA bit 4.
    public var deviceSpecificParameter: UInt8
    /// LONGLBA: the block descriptors are 16 bytes long.
    public var longLBA: Bool
    public var blockDescriptors: [ModeBlockDescriptor]
    /// Every page in the order sent, decoded or not.
    public var pages: [ModePage]
    public var caching: CachingModePage?
    public var control: ControlModePage?

    /// Needs all MODE DATA LENGTH + 2 bytes; a response cut by the allocation
    /// length throws `.truncated` with the length to ask for.
    public init(parsing bytes: [UInt8]) throws(SCSIParseError) {
        let header = ByteReader(bytes, structure: "MODE SENSE(10) data")
        try header.require(8)
        let total = 2 + Int(try header.uint16(at: 0))
        let reader = try header.subReader(at: 0, count: total, structure: "MODE SENSE(10) data")
        guard total >= 8 else {
            throw reader.invalid("MODE DATA LENGTH \(total - 2) is shorter than the rest of the 8-byte header")
        }
        mediumType = try reader.uint8(at: 2)
        deviceSpecificParameter = try reader.uint8(at: 3)
        longLBA = try reader.bit(0, at: 4)

        let descriptorLength = Int(try reader.uint16(at: 6))
        let descriptorSize = longLBA ? 16 : 8
        guard descriptorLength % descriptorSize == 0 else {
            throw reader.invalid("BLOCK DESCRIPTOR LENGTH \(descriptorLength) is not a multiple of \(descriptorSize)")
        }
        guard 8 + descriptorLength <= total else {
            throw reader.invalid("BLOCK DESCRIPTOR LENGTH \(descriptorLength) runs past the mode data length")
        }
        var descriptors: [ModeBlockDescriptor] = []
        for offset in stride(from: 8, to: 8 + descriptorLength, by: descriptorSize) {
            descriptors.append(try ModeBlockDescriptor.parse(reader, at: offset, long: longLBA))
        }
        blockDescriptors = descriptors

        var pages: [ModePage] = []
        var offset = 8 + descriptorLength
        while offset < total {
            let (page, length) = try ModePage.parse(reader, at: offset)
            pages.append(page)
            offset += length
        }
        self.pages = pages
        caching = nil
        control = nil
        for page in pages where page.subpageCode == nil {
            switch page.pageCode {
            case ModePage.cachingPageCode: caching = try CachingModePage(parsing: page)
            case ModePage.controlPageCode: control = try ControlModePage(parsing: page)
            default: break
            }
        }
    }

    /// WP: the medium is write-protected.
    public var writeProtected: Bool { deviceSpecificParameter & 0x80 != 0 }

    /// DPOFUA: the device honours DPO and FUA.
    public var supportsDPOAndFUA: Bool { deviceSpecificParameter & 0x10 != 0 }
}
