// Reproducible data for verified read/write tests: every byte depends on the seed and its offset.

import NIOCore

enum TestPattern {
    /// `count` bytes that differ for every (seed, offset), so a block written to the wrong
    /// LBA, or read from the wrong offset, never compares equal by accident.
    static func bytes(seed: UInt64, count: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(count)
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var written = 0
        while written < count {
            // xorshift64*: fast, deterministic, no allocation.
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            let word = state &* 0x2545_F491_4F6C_DD1D
            let take = min(8, count - written)
            withUnsafeBytes(of: word.littleEndian) { buffer.writeBytes($0.prefix(take)) }
            written += take
        }
        return buffer
    }
}
