// READ CAPACITY(16) parameter data (SBC-4 §5.21.2): capacity, block sizes,
// protection and provisioning flags.

public struct ReadCapacity16Data: Sendable, Hashable {
    /// RETURNED LOGICAL BLOCK ADDRESS: the last addressable block.
    public var returnedLBA: UInt64
    public var blockLength: UInt32
    /// P_TYPE: protection type minus one, meaningful when `protectionEnabled`.
    public var protectionType: UInt8
    /// PROT_EN.
    public var protectionEnabled: Bool
    /// RC BASIS: 0 capacity as in READ CAPACITY(10), 1 whole medium.
    public var capacityBasis: UInt8
    /// P_I_EXPONENT: protection information intervals per logical block, as a power of two.
    public var protectionIntervalExponent: UInt8
    /// LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT: 3 for 512-byte blocks on 4 KiB sectors.
    public var logicalBlocksPerPhysicalBlockExponent: UInt8
    /// LBPME: the LUN is thin (logical block provisioning management enabled).
    public var logicalBlockProvisioningManagementEnabled: Bool
    /// LBPRZ: unmapped blocks read as zeros.
    public var logicalBlockProvisioningReadZeros: Bool
    /// LOWEST ALIGNED LOGICAL BLOCK ADDRESS: the first LBA at a physical block boundary.
    public var lowestAlignedLBA: UInt16

    /// The fields end at byte 15; the remaining 16 of the 32 bytes are reserved,
    /// so 16 bytes are enough.
    public init(parsing bytes: [UInt8]) throws(SCSIParseError) {
        let reader = ByteReader(bytes, structure: "READ CAPACITY(16) data")
        try reader.require(16)
        returnedLBA = try reader.uint64(at: 0)
        blockLength = try reader.uint32(at: 8)
        let byte12 = try reader.uint8(at: 12)
        capacityBasis = (byte12 >> 4) & 0x03
        protectionType = (byte12 >> 1) & 0x07
        protectionEnabled = byte12 & 0x01 != 0
        let byte13 = try reader.uint8(at: 13)
        protectionIntervalExponent = byte13 >> 4
        logicalBlocksPerPhysicalBlockExponent = byte13 & 0x0F
        logicalBlockProvisioningManagementEnabled = try reader.bit(7, at: 14)
        logicalBlockProvisioningReadZeros = try reader.bit(6, at: 14)
        lowestAlignedLBA = try reader.uint16(at: 14) & 0x3FFF
        guard blockLength != 0 else { throw reader.invalid("LOGICAL BLOCK LENGTH IN BYTES is zero") }
        guard returnedLBA != .max else {
            throw reader.invalid("RETURNED LOGICAL BLOCK ADDRESS is 0xFFFFFFFFFFFFFFFF, which no block count can follow")
        }
    }

    /// The parser refuses a last LBA of UInt64.max; a value built by hand saturates.
    public var blockCount: UInt64 {
        returnedLBA == .max ? .max : returnedLBA + 1
    }

    /// Bytes per physical block. The exponent has four bits, so the shift stays below 64 bits.
    public var physicalBlockLength: UInt64 {
        UInt64(blockLength) << UInt64(logicalBlocksPerPhysicalBlockExponent)
    }
}
