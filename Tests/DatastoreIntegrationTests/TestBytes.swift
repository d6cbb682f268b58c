// Reproducible pseudo-random bytes, so a read-back is compared with what was written.

import NIOCore

enum TestBytes {
    /// `count` bytes of an xorshift stream seeded by `seed`, eight bytes per step so a
    /// debug build makes megabytes quickly.
    static func make(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var bytes = [UInt8](repeating: 0, count: (count + 7) / 8 * 8)
        bytes.withUnsafeMutableBytes { raw in
            for word in 0..<raw.count / 8 {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                raw.storeBytes(of: state.littleEndian, toByteOffset: word * 8, as: UInt64.self)
            }
        }
        bytes.removeLast(bytes.count - count)
        return bytes
    }

    static func buffer(_ count: Int, seed: UInt64) -> ByteBuffer {
        ByteBuffer(bytes: make(count, seed: seed))
    }
}
