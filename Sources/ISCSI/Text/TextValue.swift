// The value grammar of iSCSI text keys (RFC 7143 §6.1, §6.2): numbers in decimal or
// hex, binary in hex or base64, Yes/No, lists, ranges and the three special answers.

/// Parsers and printers for the value forms of RFC 7143 §6.1.
///
/// Every parser returns nil for text that does not match its form, so callers
/// can name the key and the value in their own error.
public enum TextValue {
    /// Answers any key may get instead of a value (RFC 7143 §6.2).
    public enum Special: String, Sendable, Hashable, CaseIterable {
        /// The responder does not know the key.
        case notUnderstood = "NotUnderstood"
        /// The key has no meaning in this context (e.g. a burst length in a discovery session).
        case irrelevant = "Irrelevant"
        /// The responder refuses the offered value.
        case reject = "Reject"
    }

    public static func special(_ text: String) -> Special? { Special(rawValue: text) }

    /// A decimal-constant: digits only, at most 64 bits.
    public static func decimal(_ text: String) -> UInt64? {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= 20, utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return UInt64(text, radix: 10)
    }

    /// A numerical value: a decimal-constant or a hex-constant (`0x1F`), at most 64 bits.
    public static func number(_ text: String) -> UInt64? {
        if let digits = hexDigits(text) {
            guard digits.count <= 16 else { return nil }
            return UInt64(digits, radix: 16)
        }
        return decimal(text)
    }

    /// A binary value: hex (`0x...`, an odd digit count gets an implied leading 0)
    /// or base64 (`0b...`, RFC 4648 alphabet, padding optional).
    public static func binary(_ text: String) -> [UInt8]? {
        if let digits = hexDigits(text) {
            guard !digits.isEmpty else { return nil }
            var nibbles = digits.utf8.map { hexNibble($0) }
            if nibbles.count % 2 == 1 { nibbles.insert(0, at: 0) }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(nibbles.count / 2)
            var index = 0
            while index < nibbles.count {
                guard let high = nibbles[index], let low = nibbles[index + 1] else { return nil }
                bytes.append(high << 4 | low)
                index += 2
            }
            return bytes
        }
        if text.hasPrefix("0b") || text.hasPrefix("0B") {
            return base64Decode(text.utf8.dropFirst(2))
        }
        return nil
    }

    /// `Yes` or `No`, spelt exactly so (RFC 7143 §6.1 boolean-value).
    public static func boolean(_ text: String) -> Bool? {
        switch text {
        case "Yes": true
        case "No": false
        default: nil
        }
    }

    public static func boolean(_ value: Bool) -> String { value ? "Yes" : "No" }

    /// A comma-separated list; nil when any element is empty.
    public static func list(_ text: String) -> [String]? {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard !items.contains(where: \.isEmpty) else { return nil }
        return items
    }

    /// A numeric range `low~high` with low ≤ high.
    public static func range(_ text: String) -> ClosedRange<UInt64>? {
        let parts = text.split(separator: "~", omittingEmptySubsequences: false)
        guard parts.count == 2, let low = number(String(parts[0])), let high = number(String(parts[1])), low <= high
        else { return nil }
        return low...high
    }

    /// Binary as a lower-case hex-constant, the form every target accepts.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var text = "0x"
        for byte in bytes {
            text.unicodeScalars.append(Unicode.Scalar(digits[Int(byte >> 4)]))
            text.unicodeScalars.append(Unicode.Scalar(digits[Int(byte & 0x0F)]))
        }
        return text
    }

    /// Binary as a base64-constant (`0b...`, padded).
    public static func base64(_ bytes: [UInt8]) -> String {
        var text = "0b"
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var group: UInt32 = 0
            for (offset, byte) in chunk.enumerated() { group |= UInt32(byte) << (16 - 8 * UInt32(offset)) }
            for position in 0..<4 {
                if position <= chunk.count {
                    let sextet = Int((group >> (18 - 6 * UInt32(position))) & 0x3F)
                    text.unicodeScalars.append(Unicode.Scalar(base64Alphabet[sextet]))
                } else {
                    text.append("=")
                }
            }
            index += 3
        }
        return text
    }

    // MARK: - Helpers

    private static let base64Alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8
    )

    private static func hexDigits(_ text: String) -> Substring? {
        guard text.hasPrefix("0x") || text.hasPrefix("0X") else { return nil }
        let digits = text.dropFirst(2)
        guard digits.utf8.allSatisfy({ hexNibble($0) != nil }) else { return nil }
        return digits
    }

    private static func hexNibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func base64Sextet(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): UInt32(byte - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): UInt32(byte - UInt8(ascii: "a")) + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0")) + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }

    private static func base64Decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        var body = Array(text)
        var padding = 0
        while body.last == UInt8(ascii: "="), padding < 2 {
            body.removeLast()
            padding += 1
        }
        // With padding the length must have been a multiple of four; one leftover
        // character can never encode a whole byte.
        guard !body.isEmpty, padding == 0 || (body.count + padding) % 4 == 0, body.count % 4 != 1 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(body.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for character in body {
            guard let sextet = base64Sextet(character) else { return nil }
            accumulator = (accumulator << 6) | sextet
            bits += 6
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        return bytes
    }
}
