// One range of the UNMAP parameter list (SBC-4 §5.37.2).

/// A run of logical blocks to deallocate.
public struct UnmapBlockDescriptor: Sendable, Hashable {
    public var lba: UInt64
    public var blockCount: UInt32

    public init(lba: UInt64, blockCount: UInt32) {
        self.lba = lba
        self.blockCount = blockCount
    }
}
