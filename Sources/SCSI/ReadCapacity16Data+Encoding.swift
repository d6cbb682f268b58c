// Building READ CAPACITY(16) parameter data (SBC-4 §5.21.2), for the export's logical units.

extension ReadCapacity16Data {
    /// Capacity and provisioning flags; protection information is never enabled.
    public init(
        blockCount: UInt64,
        blockLength: UInt32,
        logicalBlocksPerPhysicalBlockExponent: UInt8 = 0,
        provisioningManagementEnabled: Bool,
        provisioningReadZeros: Bool,
        lowestAlignedLBA: UInt16 = 0
    ) {
        returnedLBA = blockCount == 0 ? 0 : blockCount - 1
        self.blockLength = blockLength
        protectionType = 0
        protectionEnabled = false
        capacityBasis = 0
        protectionIntervalExponent = 0
        self.logicalBlocksPerPhysicalBlockExponent = logicalBlocksPerPhysicalBlockExponent & 0x0F
        logicalBlockProvisioningManagementEnabled = provisioningManagementEnabled
        logicalBlockProvisioningReadZeros = provisioningReadZeros
        self.lowestAlignedLBA = lowestAlignedLBA & 0x3FFF
    }

    /// The 32 bytes of parameter data; bytes 16-31 are reserved.
    public func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 32)
        bytes.storeBigEndian(returnedLBA, at: 0)
        bytes.storeBigEndian(blockLength, at: 8)
        bytes[12] = (capacityBasis & 0x03) << 4 | (protectionType & 0x07) << 1 | (protectionEnabled ? 1 : 0)
        bytes[13] = (protectionIntervalExponent & 0x0F) << 4 | (logicalBlocksPerPhysicalBlockExponent & 0x0F)
        let flags: UInt16 = (logicalBlockProvisioningManagementEnabled ? 0x8000 : 0)
            | (logicalBlockProvisioningReadZeros ? 0x4000 : 0) | (lowestAlignedLBA & 0x3FFF)
        bytes.storeBigEndian(flags, at: 14)
        return bytes
    }
}
