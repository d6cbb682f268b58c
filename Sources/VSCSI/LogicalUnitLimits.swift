// The limits a logical unit advertises in the Block Limits VPD page (SBC-4 §6.6.4)
// and enforces on every command, in logical blocks unless said otherwise.

/// Transfer, UNMAP, WRITE SAME, COMPARE AND WRITE and atomic write limits.
public struct LogicalUnitLimits: Sendable, Hashable {
    /// The largest READ/WRITE/VERIFY transfer; longer ones get INVALID FIELD IN CDB.
    public var maximumTransferLength: UInt32
    public var optimalTransferLength: UInt32
    /// COMPARE AND WRITE's NUMBER OF LOGICAL BLOCKS is one byte, so at most 255.
    public var maximumCompareAndWriteLength: UInt8
    public var maximumUnmapLBACount: UInt32
    public var maximumUnmapDescriptorCount: UInt32
    public var maximumWriteSameLength: UInt64
    public var maximumAtomicTransferLength: UInt32
    /// EXTENDED COPY: CSCD descriptors, segment descriptors and bytes per segment.
    public var maximumCopyTargetDescriptors: UInt16
    public var maximumCopySegmentDescriptors: UInt16
    public var maximumCopySegmentBytes: UInt32
    /// EXTENDED COPY: the descriptor lists together, in bytes.
    public var maximumCopyDescriptorListLength: UInt32

    public init(
        maximumTransferLength: UInt32 = 32768,
        optimalTransferLength: UInt32 = 2048,
        maximumCompareAndWriteLength: UInt8 = 255,
        maximumUnmapLBACount: UInt32 = 0x40_0000,
        maximumUnmapDescriptorCount: UInt32 = 256,
        maximumWriteSameLength: UInt64 = 0x40_0000,
        maximumAtomicTransferLength: UInt32 = 2048,
        maximumCopyTargetDescriptors: UInt16 = 8,
        maximumCopySegmentDescriptors: UInt16 = 64,
        maximumCopySegmentBytes: UInt32 = 64 << 20,
        maximumCopyDescriptorListLength: UInt32 = 4096
    ) {
        self.maximumTransferLength = maximumTransferLength
        self.optimalTransferLength = optimalTransferLength
        self.maximumCompareAndWriteLength = maximumCompareAndWriteLength
        self.maximumUnmapLBACount = maximumUnmapLBACount
        self.maximumUnmapDescriptorCount = maximumUnmapDescriptorCount
        self.maximumWriteSameLength = maximumWriteSameLength
        self.maximumAtomicTransferLength = maximumAtomicTransferLength
        self.maximumCopyTargetDescriptors = maximumCopyTargetDescriptors
        self.maximumCopySegmentDescriptors = maximumCopySegmentDescriptors
        self.maximumCopySegmentBytes = maximumCopySegmentBytes
        self.maximumCopyDescriptorListLength = maximumCopyDescriptorListLength
    }
}
