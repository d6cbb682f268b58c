// How an engine's open-time probe settles the COMPARE AND WRITE limit.

extension SCSIBlockLimits {
    /// A COMPARE AND WRITE that works although the block limits page advertised no length
    /// for it is taken to handle one block.
    public mutating func settleCompareAndWrite(_ capabilities: BlockDeviceCapabilities) {
        if maximumCompareAndWriteBlocks == 0, capabilities.contains(.compareAndWrite) {
            maximumCompareAndWriteBlocks = 1
        }
    }
}
