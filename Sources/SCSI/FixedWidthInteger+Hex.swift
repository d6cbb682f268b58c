// Upper-case, zero-padded hex for messages, without Foundation's String(format:).

extension FixedWidthInteger where Self: UnsignedInteger {
    /// Upper-case hex, two digits per byte of the type: `UInt8(0x5) → "05"`.
    var hexDigits: String {
        let digits = String(self, radix: 16, uppercase: true)
        let width = MemoryLayout<Self>.size * 2
        return String(repeating: "0", count: Swift.max(0, width - digits.count)) + digits
    }
}
