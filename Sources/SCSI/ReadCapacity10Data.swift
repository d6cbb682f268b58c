// READ CAPACITY(10) parameter data (SBC-4 §5.20.2): the last LBA and the block length.

public struct ReadCapacity10Data: Sendable, Hashable {
    /// RETURNED LOGICAL BLOCK ADDRESS: the last addressable block.
    public var returnedLBA: UInt32
    public var blockLength: UInt32

    public init(parsing bytes: [UInt8]) throws(SCSIParseError) {
        let reader = ByteReader(bytes, structure: "READ CAPACITY(10) data")
        returnedLBA = try reader.uint32(at: 0)
        blockLength = try reader.uint32(at: 4)
        guard blockLength != 0 else { throw reader.invalid("LOGICAL BLOCK LENGTH IN BYTES is zero") }
    }

    /// 0xFFFFFFFF says the capacity does not fit: ask READ CAPACITY(16).
    public var needsReadCapacity16: Bool { returnedLBA == .max }

    public var blockCount: UInt64 { UInt64(returnedLBA) + 1 }
}
