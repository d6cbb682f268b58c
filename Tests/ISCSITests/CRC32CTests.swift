// CRC32C (RFC 7143 §13.1): known answers from RFC 3720 appendix B.4; the one- and three-stream
// hardware paths against the portable table code.

import CCRC32C
import TestSupport
import Testing

@Suite struct CRC32CTests {
    private func crc(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { vdisk_crc32c(0, $0.baseAddress, $0.count) }
    }

    @Test func checkValue() {
        #expect(crc(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func rfcVectors() {
        #expect(crc([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(crc([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(crc((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(crc((0..<32).map { UInt8(31 - $0) }) == 0x113F_DB5C)
    }

    @Test func hardwareMatchesPortableAtEveryAlignmentAndLength() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<4200).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes.withUnsafeBytes { raw in
            for start in 0..<9 {
                for length in [0, 1, 7, 8, 9, 63, 64, 65, 511, 4096] where start + length <= raw.count {
                    let p = raw.baseAddress! + start
                    #expect(vdisk_crc32c(0, p, length) == vdisk_crc32c_portable(0, p, length))
                }
            }
        }
    }

    @Test func continuesAcrossSplits() {
        let bytes = Array("The quick brown fox jumps over the lazy dog".utf8)
        let whole = crc(bytes)
        bytes.withUnsafeBytes { raw in
            for split in 0...raw.count {
                let first = vdisk_crc32c(0, raw.baseAddress, split)
                #expect(vdisk_crc32c(first, raw.baseAddress! + split, raw.count - split) == whole)
            }
        }
    }

    /// Lengths around every switch in the three-stream code: the 768-byte
    /// threshold, the 3 x 256 and 3 x 8192 chunk sizes, and what is left after them.
    private static let interleavingLengths: [Int] = {
        var lengths = Array(0..<64)
        for base in [768, 1536, 3 * 8192, 2 * 3 * 8192, 3 * 8192 + 768] {
            lengths += [base - 9, base - 8, base - 1, base, base + 1, base + 7, base + 8, base + 255]
        }
        lengths += [4096, 8192, 65536, 65536 + 13, 262_144, 1_048_576 - 8, 1_048_576]
        var generator = SeededGenerator(seed: 0xC3C3)
        lengths += (0..<40).map { _ in Int.random(in: 0...1_048_576, using: &generator) }
        return lengths
    }()

    @Test func threeStreamAndOneStreamMatchPortableUpToOneMebibyte() {
        var generator = SeededGenerator(seed: 32)
        let bytes = generator.bytes(1_048_576 + 16)
        bytes.withUnsafeBytes { raw in
            for length in Self.interleavingLengths {
                // Every alignment for the small and threshold sizes, a few for the large ones (portable is slow).
                let starts = length <= 4 * 8192 ? Array(0..<9) : [0, 3, 8]
                for start in starts where start + length <= raw.count {
                    let p = raw.baseAddress! + start
                    let expected = vdisk_crc32c_portable(0, p, length)
                    #expect(vdisk_crc32c(0, p, length) == expected, "length \(length) at offset \(start)")
                    #expect(vdisk_crc32c_single_stream(0, p, length) == expected, "length \(length) at offset \(start)")
                }
            }
        }
    }

    @Test func threeStreamContinuesFromANonZeroCRC() {
        var generator = SeededGenerator(seed: 33)
        let bytes = generator.bytes(200_000)
        bytes.withUnsafeBytes { raw in
            let whole = vdisk_crc32c_portable(0, raw.baseAddress, raw.count)
            for split in [1, 767, 768, 5000, 24_576, 100_001, 199_000] {
                let first = vdisk_crc32c(0, raw.baseAddress, split)
                #expect(vdisk_crc32c(first, raw.baseAddress! + split, raw.count - split) == whole, "split at \(split)")
            }
        }
    }
}
