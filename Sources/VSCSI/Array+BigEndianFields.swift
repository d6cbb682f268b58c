// Big-endian reads and writes on byte arrays, for the parameter lists and data the
// logical unit parses and builds (bounds are checked by the callers).

extension Array where Element == UInt8 {
    /// Writes the low `width` bytes of `value` big-endian at `offset`.
    mutating func put<T: FixedWidthInteger>(_ value: T, at offset: Int, width: Int = MemoryLayout<T>.size) {
        let wide = UInt64(truncatingIfNeeded: value)
        for index in 0..<width {
            self[offset + index] = UInt8(truncatingIfNeeded: wide >> (8 * (width - 1 - index)))
        }
    }

    /// Reads `width` bytes big-endian at `offset`.
    func bigEndian(at offset: Int, width: Int) -> UInt64 {
        var result: UInt64 = 0
        for index in offset..<(offset + width) {
            result = result << 8 | UInt64(self[index])
        }
        return result
    }

    /// `text` as ASCII, cut or space-padded to `width` bytes (INQUIRY's text fields).
    static func paddedASCII(_ text: String, width: Int) -> [UInt8] {
        let ascii = text.utf8.map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: "?") }
        return Array(ascii.prefix(width)) + [UInt8](repeating: 0x20, count: Swift.max(0, width - ascii.count))
    }
}
