// Deterministic, position-dependent test data: a block read back from the wrong
// place or a stale buffer never matches.

import NIOCore

enum TestPattern {
    /// `length` bytes derived from `seed` and each byte's offset (xorshift).
    static func bytes(_ length: Int, seed: UInt64) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: length)
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var remaining = length
        while remaining >= 8 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            buffer.writeInteger(state)
            remaining -= 8
        }
        for index in 0..<remaining { buffer.writeInteger(UInt8(truncatingIfNeeded: state >> (index * 8))) }
        return buffer
    }
}
