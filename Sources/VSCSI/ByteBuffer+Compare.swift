// Byte-wise comparison of two buffers, for VERIFY, WRITE AND VERIFY and COMPARE AND WRITE.

import NIOCore

extension ByteBuffer {
    /// The offset of the first byte where `self` and `other` differ, comparing
    /// `length` bytes starting at `otherOffset` of `other`; nil when they match.
    func firstDifference(from other: ByteBuffer, otherOffset: Int = 0, length: Int) -> Int? {
        withUnsafeReadableBytes { mine in
            other.withUnsafeReadableBytes { theirs in
                for index in 0..<length where mine[index] != theirs[otherOffset + index] {
                    return index
                }
                return nil
            }
        }
    }
}
