// Building READ CAPACITY(10) parameter data (SBC-4 §5.20.2), for the export's logical units.

extension ReadCapacity10Data {
    /// A device of `blockCount` blocks; a count past 32 bits reports 0xFFFFFFFF,
    /// which tells the initiator to ask READ CAPACITY(16).
    public init(blockCount: UInt64, blockLength: UInt32) {
        let last = blockCount == 0 ? 0 : blockCount - 1
        self.returnedLBA = last >= UInt64(UInt32.max) ? .max : UInt32(last)
        self.blockLength = blockLength
    }

    /// The 8 bytes of parameter data.
    public func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 8)
        bytes.storeBigEndian(returnedLBA, at: 0)
        bytes.storeBigEndian(blockLength, at: 4)
        return bytes
    }
}
