// CRC32C header and data digests over ByteBuffer regions (RFC 7143 §13.1), computed in place without copying.

import CCRC32C
import NIOCore

extension ByteBuffer {
    /// CRC32C of `length` readable bytes starting `offset` bytes past the reader index.
    func crc32c(offset: Int = 0, length: Int) -> UInt32 {
        precondition(offset >= 0 && length >= 0 && offset + length <= self.readableBytes)
        return self.withUnsafeReadableBytes { raw in
            vdisk_crc32c(0, raw.baseAddress.map { $0 + offset }, length)
        }
    }

    /// Continues `crc` over all readable bytes.
    func crc32c(continuing crc: UInt32) -> UInt32 {
        self.withUnsafeReadableBytes { raw in vdisk_crc32c(crc, raw.baseAddress, raw.count) }
    }

    /// Digests travel least-significant byte first: RFC 7143 §13.1 and the
    /// RFC 3720 B.4 examples (32 zero bytes give CRC 0x8A9136AA, sent as aa 36 91 8a).
    mutating func writeDigest(_ crc: UInt32) {
        self.writeInteger(crc, endianness: .little)
    }

    mutating func readDigest() -> UInt32? {
        self.readInteger(endianness: .little, as: UInt32.self)
    }
}
