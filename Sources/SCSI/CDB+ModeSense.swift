// MODE SENSE(10) (SPC-5 §6.14): how the initiator reads the Caching and Control pages.

extension CDB {
    /// The MODE SENSE page code asking for every page.
    public static let allModePages: UInt8 = 0x3F

    /// MODE SENSE(10). `disableBlockDescriptors` (DBD) leaves block descriptors
    /// out; `longLBAAccepted` (LLBAA) allows 16-byte ones.
    /// - Precondition: `page` fits the 6-bit PAGE CODE field.
    public static func modeSense10(
        page: UInt8,
        subpage: UInt8 = 0,
        pageControl: ModePageControl = .current,
        disableBlockDescriptors: Bool = true,
        longLBAAccepted: Bool = false,
        allocationLength: UInt16 = 4096
    ) -> [UInt8] {
        precondition(page <= 0x3F, "MODE SENSE page code 0x\(page.hexDigits) does not fit in 6 bits")
        var cdb = blank(.modeSense10, length: 10)
        cdb[1] = (longLBAAccepted ? 0x10 : 0) | (disableBlockDescriptors ? 0x08 : 0)
        cdb[2] = pageControl.rawValue << 6 | page
        cdb[3] = subpage
        cdb.storeBigEndian(allocationLength, at: 7)
        return cdb
    }
}
