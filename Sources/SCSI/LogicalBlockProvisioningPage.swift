// The Logical Block Provisioning page (0xB2, SBC-4 §6.6.7): whether the LUN is
// thin, and which commands deallocate blocks.

public struct LogicalBlockProvisioningPage: Sendable, Hashable {
    /// PROVISIONING TYPE (SBC-4 table 250).
    public enum ProvisioningType: UInt8, Sendable, Hashable, CaseIterable {
        /// Not reported, or fully provisioned.
        case fullOrNotReported = 0
        case resourceProvisioned = 1
        case thinProvisioned = 2
    }

    /// THRESHOLD EXPONENT: thresholds count in units of 2^exponent blocks.
    public var thresholdExponent: UInt8
    /// LBPU: UNMAP deallocates.
    public var unmapSupported: Bool
    /// LBPWS: WRITE SAME(16) with UNMAP deallocates.
    public var writeSame16UnmapSupported: Bool
    /// LBPWS10: WRITE SAME(10) with UNMAP deallocates.
    public var writeSame10UnmapSupported: Bool
    /// LBPRZ (3 bits in SBC-4; only bit 2 in SBC-3, which lands on value 1 here).
    public var lbprz: UInt8
    /// ANC_SUP: anchored LBAs are supported.
    public var anchorSupported: Bool
    /// DP: a provisioning group descriptor follows.
    public var descriptorPresent: Bool
    public var minimumPercentage: UInt8
    /// PROVISIONING TYPE; nil for a reserved value.
    public var provisioningType: ProvisioningType?
    public var thresholdPercentage: UInt8
    /// The provisioning group descriptor, when DP is set, as a designator.
    public var provisioningGroup: Designator?

    public init(parsing bytes: [UInt8]) throws(SCSIParseError) {
        let reader = try ByteReader.vitalProductDataPage(bytes, .logicalBlockProvisioning)
        try reader.require(8)
        thresholdExponent = try reader.uint8(at: 4)
        let flags = try reader.uint8(at: 5)
        unmapSupported = flags & 0x80 != 0
        writeSame16UnmapSupported = flags & 0x40 != 0
        writeSame10UnmapSupported = flags & 0x20 != 0
        lbprz = (flags >> 2) & 0x07
        anchorSupported = flags & 0x02 != 0
        descriptorPresent = flags & 0x01 != 0
        minimumPercentage = try reader.uint8(at: 6) >> 3
        provisioningType = ProvisioningType(rawValue: try reader.uint8(at: 6) & 0x07)
        thresholdPercentage = try reader.uint8(at: 7)

        provisioningGroup = nil
        if descriptorPresent, reader.count > 8 {
            guard reader.count >= 12 else {
                throw reader.invalid("provisioning group descriptor is cut off inside its 4-byte header")
            }
            let length = 4 + Int(try reader.uint8(at: 11))
            guard 8 + length <= reader.count else {
                throw reader.invalid("provisioning group descriptor claims \(length) bytes, past the page length")
            }
            provisioningGroup = try Designator(
                reader.subReader(at: 8, count: length, structure: "provisioning group descriptor")
            )
        }
    }

    /// Unmapped blocks read back as zeros (LBPRZ xx1b).
    public var unmappedBlocksReadZero: Bool { lbprz & 0x01 != 0 }
}
