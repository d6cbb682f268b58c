// Comparing megabytes in a debug build without hogging a cooperative thread: a host's
// heartbeat task shares those threads, and a long element-by-element loop would starve it
// into fencing itself.

import Foundation
import NIOCore

enum ByteComparison {
    /// The first offset where `buffer` differs from `expected`, or nil when they are equal.
    static func firstDifference(_ buffer: ByteBuffer, _ expected: ArraySlice<UInt8>) -> Int? {
        buffer.withUnsafeReadableBytes { actual in
            expected.withUnsafeBytes { wanted in
                firstDifference(actual, wanted)
            }
        }
    }

    /// The first offset where `buffer` holds something other than zero, or nil.
    static func firstNonZero(_ buffer: ByteBuffer) -> Int? {
        let zeros = [UInt8](repeating: 0, count: buffer.readableBytes)
        return firstDifference(buffer, zeros[...])
    }

    private static func firstDifference(_ actual: UnsafeRawBufferPointer, _ wanted: UnsafeRawBufferPointer) -> Int? {
        guard actual.count == wanted.count else { return min(actual.count, wanted.count) }
        guard actual.count > 0, memcmp(actual.baseAddress!, wanted.baseAddress!, actual.count) != 0 else { return nil }
        // Only on a mismatch: narrow it down in 4 KiB steps, then byte by byte.
        var start = 0
        while start + 4096 <= actual.count, memcmp(actual.baseAddress! + start, wanted.baseAddress! + start, 4096) == 0 {
            start += 4096
        }
        return (start..<actual.count).first { actual[$0] != wanted[$0] }
    }
}
