// The LBA, block count and cache bits of the READ/WRITE/VERIFY family, decoded
// from whichever CDB size carries them (SBC-4 §5).

/// Where a data command's fields sit and what they say.
struct TransferFields: Sendable {
    var lba: UInt64
    var blockCount: UInt64
    var fua: Bool
    var dpo: Bool
    /// Offset of the TRANSFER LENGTH field, for field pointers.
    var lengthOffset: Int
    /// Width of the TRANSFER LENGTH field in bytes, for rewriting it.
    var lengthWidth: Int

    init(_ cdb: CDBFields, kind: CommandKind) {
        switch kind {
        case .read6, .write6:
            lba = UInt64(cdb[1] & 0x1F) << 16 | UInt64(cdb.uint16(2))
            // A TRANSFER LENGTH of 0 means 256 blocks in the 6-byte commands only.
            blockCount = cdb[4] == 0 ? 256 : UInt64(cdb[4])
            lengthOffset = 4
            lengthWidth = 1
        case .read10, .write10, .verify10, .writeAndVerify10, .preFetch10, .synchronizeCache10, .writeSame10:
            lba = UInt64(cdb.uint32(2))
            blockCount = UInt64(cdb.uint16(7))
            lengthOffset = 7
            lengthWidth = 2
        case .read12, .write12, .verify12, .writeAndVerify12:
            lba = UInt64(cdb.uint32(2))
            blockCount = UInt64(cdb.uint32(6))
            lengthOffset = 6
            lengthWidth = 4
        case .writeAtomic16:
            lba = cdb.uint64(2)
            blockCount = UInt64(cdb.uint16(12))
            lengthOffset = 12
            lengthWidth = 2
        default:
            lba = cdb.uint64(2)
            blockCount = UInt64(cdb.uint32(10))
            lengthOffset = 10
            lengthWidth = 4
        }
        let sixByte = kind == .read6 || kind == .write6
        fua = !sixByte && cdb[1] & 0x08 != 0
        dpo = !sixByte && cdb[1] & 0x10 != 0
    }
}
