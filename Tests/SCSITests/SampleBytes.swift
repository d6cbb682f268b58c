// Small helpers for writing sample responses by hand.

enum SampleBytes {
    /// ASCII text padded with spaces (or cut) to exactly `width` bytes.
    static func ascii(_ text: String, width: Int, pad: UInt8 = 0x20) -> [UInt8] {
        let raw = Array(text.utf8.prefix(width))
        return raw + [UInt8](repeating: pad, count: width - raw.count)
    }

    /// `value` big-endian in `width` bytes.
    static func bigEndian<T: FixedWidthInteger>(_ value: T, width: Int = MemoryLayout<T>.size) -> [UInt8] {
        (0..<width).map { UInt8(truncatingIfNeeded: UInt64(value) >> (8 * (width - 1 - $0))) }
    }

    /// A VPD page: the header with its PAGE LENGTH, then `body`, padded with zeros to `pageLength`.
    static func vpdPage(_ code: UInt8, _ body: [UInt8], pageLength: Int? = nil) -> [UInt8] {
        let length = pageLength ?? body.count
        let padded = body + [UInt8](repeating: 0, count: max(0, length - body.count))
        return [0x00, code] + bigEndian(UInt16(length)) + padded
    }
}
