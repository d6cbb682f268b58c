// CRC32C: known answers from RFC 3720 appendix B.4, and hardware against portable.

import CCRC32C
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
}
