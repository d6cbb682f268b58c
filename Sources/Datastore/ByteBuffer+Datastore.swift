// Bounds-checked little-endian field access and CRC32C sealing for on-disk records.

import CCRC32C
import Foundation
import NIOCore

extension ByteBuffer {
    /// A zero-filled buffer of `count` bytes.
    static func zeros(_ count: Int) -> ByteBuffer {
        ByteBuffer(repeating: 0, count: count)
    }

    /// CRC32C of `length` readable bytes starting at the reader index.
    func crc32c(length: Int) -> UInt32 {
        withUnsafeReadableBytes { bytes in
            vdisk_crc32c(0, bytes.baseAddress, Swift.min(length, bytes.count))
        }
    }

    /// Stores the CRC32C of the bytes before `offset` at `offset`.
    mutating func sealCRC(at offset: Int) {
        let crc = crc32c(length: offset)
        setInteger(crc, at: readerIndex + offset, endianness: .little)
    }

    /// True when the CRC32C stored at `offset` matches the bytes before it.
    func hasValidCRC(at offset: Int) -> Bool {
        guard readableBytes >= offset + 4,
              let stored = getInteger(at: readerIndex + offset, endianness: .little, as: UInt32.self)
        else { return false }
        return stored == crc32c(length: offset)
    }

    /// True when the first `length` readable bytes are all zero.
    func isAllZero(length: Int) -> Bool {
        guard readableBytes >= length else { return false }
        // Word at a time over raw memory: this runs on every descriptor and page read.
        return withUnsafeReadableBytes { bytes in
            var index = 0
            while index + 8 <= length {
                if bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) != 0 { return false }
                index += 8
            }
            while index < length {
                if bytes[index] != 0 { return false }
                index += 1
            }
            return true
        }
    }

    /// Refuses a record shorter than its format: a short read must not pass for a bad magic.
    func requireRecord(_ length: Int, _ place: @autoclosure () -> String) throws {
        guard readableBytes >= length else {
            throw DatastoreError(.corrupt, "\(place()) is truncated: \(readableBytes) of \(length) bytes")
        }
    }

    func le<T: FixedWidthInteger>(_ offset: Int, as: T.Type = T.self) throws -> T {
        guard let value = getInteger(at: readerIndex + offset, endianness: .little, as: T.self) else {
            throw RecordBoundsError(offset: offset, length: MemoryLayout<T>.size)
        }
        return value
    }

    mutating func setLE<T: FixedWidthInteger>(_ value: T, _ offset: Int) {
        setInteger(value, at: readerIndex + offset, endianness: .little)
    }

    func uuid(_ offset: Int) throws -> UUID {
        guard let bytes = getBytes(at: readerIndex + offset, length: 16) else {
            throw RecordBoundsError(offset: offset, length: 16)
        }
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    mutating func setUUID(_ value: UUID, _ offset: Int) {
        let u = value.uuid
        setBytes([u.0, u.1, u.2, u.3, u.4, u.5, u.6, u.7, u.8, u.9, u.10, u.11, u.12, u.13, u.14, u.15], at: readerIndex + offset)
    }

    /// A NUL-padded UTF-8 field; invalid UTF-8 is repaired rather than trusted.
    func paddedString(_ offset: Int, length: Int) throws -> String {
        guard let bytes = getBytes(at: readerIndex + offset, length: length) else {
            throw RecordBoundsError(offset: offset, length: length)
        }
        let used = bytes.firstIndex(of: 0) ?? bytes.count
        return String(repairing: bytes[0..<used], fitting: length)
    }

    mutating func setPaddedString(_ value: String, _ offset: Int, length: Int) {
        var bytes = Array(value.utf8.prefix(length))
        bytes += [UInt8](repeating: 0, count: length - bytes.count)
        setBytes(bytes, at: readerIndex + offset)
    }
}


extension String {
    /// UTF-8 from disk, with invalid sequences replaced by U+FFFD and trailing characters
    /// dropped until it fits `limit` bytes again (each replacement takes three), so the
    /// field re-encodes to what it decodes to.
    init(repairing bytes: ArraySlice<UInt8>, fitting limit: Int) {
        var text = String(decoding: bytes, as: UTF8.self)
        while text.utf8.count > limit { text.removeLast() }
        self = text
    }
}
