// Text that came from the network, made safe for a log line: a peer must not be able to
// start a line of its own (a newline in a TargetName) or drive the terminal (escapes).

/// Escapes control characters in log text.
enum LogText {
    /// `text` with every control character (C0, DEL, C1, and the Unicode line and
    /// paragraph separators) written as a Swift-style escape: \n, \r, \t or \u{XX}.
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar) else {
                result.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default: result += "\\u{" + String(scalar.value, radix: 16) + "}"
            }
        }
        return result
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029: true
        default: scalar == "\\"
        }
    }
}
