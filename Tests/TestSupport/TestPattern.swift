// Reproducible data for verified read/write tests: every byte depends on the seed and its offset.

import NIOCore

public enum TestPattern {
    /// `count` bytes that differ for every (seed, offset), so a block written to the wrong
    /// LBA, or read from the wrong offset, never compares equal by accident.
    public static func bytes(seed: UInt64, count: Int) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        // Filled through one raw pointer: tests run unoptimised, and a call per
        // word made 16 MiB patterns cost seconds.
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
            var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
            var written = 0
            // Bounded: eight bytes per pass until `count`.
            while written < count {
                // xorshift64*: fast, deterministic, no allocation.
                state ^= state >> 12
                state ^= state << 25
                state ^= state >> 27
                let word = (state &* 0x2545_F491_4F6C_DD1D).littleEndian
                if count - written >= 8 {
                    raw.storeBytes(of: word, toByteOffset: written, as: UInt64.self)
                    written += 8
                } else {
                    for shift in 0..<(count - written) {
                        raw[written + shift] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(shift)))
                    }
                    written = count
                }
            }
            return count
        }
        return buffer
    }
}
