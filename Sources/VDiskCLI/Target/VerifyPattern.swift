// The data `target bench --verify` writes: every logical block says which run wrote it,
// for which LBA and in which write generation, so a read can tell the last acknowledged
// write from an older one, a misdirected one or foreign data.

import NIOCore

/// Encodes and checks verify blocks.
///
/// Each logical block is a 32-byte header (magic, run, LBA, generation, little-endian
/// words) followed by words derived from those three, so a torn or partly overwritten
/// block fails too, not only one whose header changed.
struct VerifyPattern: Sendable {
    /// "VDVERIFY" read as a little-endian word.
    static let magic: UInt64 = 0x5946_4952_4556_4456
    static let headerBytes = 32

    /// What a block held.
    enum Found: Equatable {
        case generation(UInt64)
        /// Not written by this run for this LBA: foreign data, another run, or a misdirected write.
        case foreign(String)
        /// The header names this run, LBA and a generation, but the body does not match it.
        case torn(generation: UInt64, byte: Int)
    }

    /// Random per run, so data left by an earlier run never passes as this run's.
    let run: UInt64
    let blockSize: Int

    /// `blockCount` blocks from `lba`, all of `generation`.
    func bytes(lba: UInt64, blockCount: Int, generation: UInt64) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: blockCount * blockSize)
        for block in 0..<blockCount {
            let address = lba + UInt64(block)
            buffer.writeInteger(Self.magic, endianness: .little)
            buffer.writeInteger(run, endianness: .little)
            buffer.writeInteger(address, endianness: .little)
            buffer.writeInteger(generation, endianness: .little)
            for word in 0..<(blockSize - Self.headerBytes) / 8 {
                buffer.writeInteger(filler(lba: address, generation: generation, word: word), endianness: .little)
            }
        }
        return buffer
    }

    /// What the block at `index` of `data` (read from `lba`) holds.
    func check(_ data: ByteBuffer, block index: Int, lba: UInt64) -> Found {
        let start = data.readerIndex + index * blockSize
        guard let magic = data.getInteger(at: start, endianness: .little, as: UInt64.self),
              let run = data.getInteger(at: start + 8, endianness: .little, as: UInt64.self),
              let address = data.getInteger(at: start + 16, endianness: .little, as: UInt64.self),
              let generation = data.getInteger(at: start + 24, endianness: .little, as: UInt64.self)
        else { return .foreign("the read returned fewer bytes than the block") }
        guard magic == Self.magic else { return .foreign("no verify header (foreign data)") }
        guard run == self.run else { return .foreign("data of another verify run") }
        guard address == lba else { return .foreign("the block written for LBA \(address) (misdirected)") }
        for word in 0..<(blockSize - Self.headerBytes) / 8 {
            let offset = Self.headerBytes + word * 8
            let expected = filler(lba: lba, generation: generation, word: word)
            guard data.getInteger(at: start + offset, endianness: .little, as: UInt64.self) == expected else {
                return .torn(generation: generation, byte: offset)
            }
        }
        return .generation(generation)
    }

    /// A SplitMix64 step over (run, LBA, generation, word): cheap and never constant.
    private func filler(lba: UInt64, generation: UInt64, word: Int) -> UInt64 {
        var value = run &+ lba &* 0x9E37_79B9_7F4A_7C15 &+ generation &* 0xD1B5_4A32_D192_ED03 &+ UInt64(word)
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
