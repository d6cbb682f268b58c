// The Block Limits page (0xB0, SBC-4 §6.6.4): how large a transfer, an UNMAP,
// a WRITE SAME or a COMPARE AND WRITE the device accepts. All counts are in
// logical blocks; zero means "no limit reported", as SBC-4 defines it.

public struct BlockLimitsPage: Sendable, Hashable {
    /// WSNZ: WRITE SAME with a block count of zero (meaning "to the end") is refused.
    public var writeSameNonZero: Bool
    public var maximumCompareAndWriteLength: UInt8
    public var optimalTransferLengthGranularity: UInt16
    public var maximumTransferLength: UInt32
    public var optimalTransferLength: UInt32
    public var maximumPrefetchLength: UInt32
    public var maximumUnmapLBACount: UInt32
    public var maximumUnmapBlockDescriptorCount: UInt32
    public var optimalUnmapGranularity: UInt32
    /// UNMAP GRANULARITY ALIGNMENT, nil unless UGAVALID is set.
    public var unmapGranularityAlignment: UInt32?
    public var maximumWriteSameLength: UInt64
    public var maximumAtomicTransferLength: UInt32
    public var atomicAlignment: UInt32
    public var atomicTransferLengthGranularity: UInt32

    /// Older targets send a shorter page (SBC-2 stopped after OPTIMAL TRANSFER
    /// LENGTH); the fields it lacks read as zero.
    public init(parsing bytes: [UInt8]) throws(SCSIParseError) {
        let reader = try ByteReader.vitalProductDataPage(bytes, .blockLimits)
        writeSameNonZero = try reader.uint8IfPresent(at: 4) & 0x01 != 0
        maximumCompareAndWriteLength = try reader.uint8IfPresent(at: 5)
        optimalTransferLengthGranularity = try reader.uint16IfPresent(at: 6)
        maximumTransferLength = try reader.uint32IfPresent(at: 8)
        optimalTransferLength = try reader.uint32IfPresent(at: 12)
        maximumPrefetchLength = try reader.uint32IfPresent(at: 16)
        maximumUnmapLBACount = try reader.uint32IfPresent(at: 20)
        maximumUnmapBlockDescriptorCount = try reader.uint32IfPresent(at: 24)
        optimalUnmapGranularity = try reader.uint32IfPresent(at: 28)
        let alignment = try reader.uint32IfPresent(at: 32)
        unmapGranularityAlignment = alignment & 0x8000_0000 != 0 ? alignment & 0x7FFF_FFFF : nil
        maximumWriteSameLength = try reader.uint64IfPresent(at: 36)
        maximumAtomicTransferLength = try reader.uint32IfPresent(at: 44)
        atomicAlignment = try reader.uint32IfPresent(at: 48)
        atomicTransferLengthGranularity = try reader.uint32IfPresent(at: 52)
    }
}
