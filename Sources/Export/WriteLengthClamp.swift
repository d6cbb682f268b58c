// Fits a write CDB to the data the initiator actually sent (RFC 7143 §11.4.5.1): with an
// EDTL short of the CDB's transfer length only whole blocks that arrived are written,
// and the residual says how much was left out.

import NIOCore

/// The CDB and Data-Out a logical unit should see for a write whose EDTL and CDB disagree.
enum WriteLengthClamp {
    /// Where a write opcode keeps its TRANSFER LENGTH, and how wide it is.
    private static func field(_ opcode: UInt8) -> (offset: Int, width: Int)? {
        switch opcode {
        case 0x2A, 0x2E: (7, 2)     // WRITE(10), WRITE AND VERIFY(10)
        case 0xAA, 0xAE: (6, 4)     // WRITE(12), WRITE AND VERIFY(12)
        case 0x8A, 0x8E: (10, 4)    // WRITE(16), WRITE AND VERIFY(16)
        default: nil
        }
    }

    /// The bytes the CDB asks to write, or nil for a command this does not adjust.
    static func wantedBytes(cdb: [UInt8], blockSize: Int) -> Int? {
        guard let first = cdb.first, let (offset, width) = field(first), cdb.count >= offset + width else { return nil }
        if first == 0x2E || first == 0xAE || first == 0x8E {
            // WRITE AND VERIFY sends data only with BYTCHK 0 or 1... and always for the write part.
            guard (cdb[1] >> 1) & 0x03 <= 1 else { return nil }
        }
        var blocks = 0
        for index in offset..<(offset + width) { blocks = blocks << 8 | Int(cdb[index]) }
        return blocks * blockSize
    }

    /// When `dataOut` is shorter than the CDB wants, the CDB rewritten to the whole blocks
    /// that arrived and the data cut to them; when longer, the data cut to what the CDB wants.
    /// nil when nothing needs to change. `wanted` is the original transfer in bytes.
    static func clamp(cdb: [UInt8], dataOut: ByteBuffer, blockSize: Int) -> (cdb: [UInt8], dataOut: ByteBuffer, wanted: Int)? {
        guard let wanted = wantedBytes(cdb: cdb, blockSize: blockSize), blockSize > 0 else { return nil }
        let have = dataOut.readableBytes
        if have == wanted { return nil }
        if have > wanted {
            return (cdb, dataOut.getSlice(at: dataOut.readerIndex, length: wanted)!, wanted)
        }
        let blocks = have / blockSize
        var rewritten = cdb
        let (offset, width) = field(cdb[0])!
        for index in 0..<width {
            rewritten[offset + index] = UInt8(truncatingIfNeeded: blocks >> (8 * (width - 1 - index)))
        }
        return (rewritten, dataOut.getSlice(at: dataOut.readerIndex, length: blocks * blockSize)!, wanted)
    }

    /// Whether a COMPARE AND WRITE's Data-Out differs from 2 × NUMBER OF LOGICAL BLOCKS blocks.
    static func compareAndWriteMismatch(cdb: [UInt8], dataOutLength: Int, blockSize: Int) -> Bool {
        guard cdb.first == 0x89, cdb.count >= 14 else { return false }
        return dataOutLength != 2 * Int(cdb[13]) * blockSize
    }
}
