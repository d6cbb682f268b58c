// Big-endian stores into preallocated byte arrays, used by the CDB and sense builders.

extension Array where Element == UInt8 {
    /// Writes `value` big-endian into `width` bytes at `offset` (the low `width` bytes of it).
    mutating func storeBigEndian<T: FixedWidthInteger>(_ value: T, at offset: Int, width: Int = MemoryLayout<T>.size) {
        let wide = UInt64(truncatingIfNeeded: value)
        for index in 0..<width {
            self[offset + index] = UInt8(truncatingIfNeeded: wide >> (8 * (width - 1 - index)))
        }
    }
}
