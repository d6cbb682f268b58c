// A block descriptor of MODE SENSE data for a direct-access device
// (SBC-4 §6.5.2): the short 8-byte form or the LONGLBA 16-byte form.

public struct ModeBlockDescriptor: Sendable, Hashable {
    public var blockCount: UInt64
    public var blockLength: UInt32

    public init(blockCount: UInt64, blockLength: UInt32) {
        self.blockCount = blockCount
        self.blockLength = blockLength
    }

    static func parse(_ reader: ByteReader, at offset: Int, long: Bool) throws(SCSIParseError) -> ModeBlockDescriptor {
        if long {
            return ModeBlockDescriptor(
                blockCount: try reader.uint64(at: offset),
                blockLength: try reader.uint32(at: offset + 12)
            )
        }
        return ModeBlockDescriptor(
            blockCount: UInt64(try reader.uint32(at: offset)),
            blockLength: try reader.uint24(at: offset + 5)
        )
    }
}
