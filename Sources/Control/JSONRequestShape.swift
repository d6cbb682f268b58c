// A linear pre-check of a request line's nesting and size, before JSONDecoder sees it.

/// Decoding a `JSONValue` tries each JSON type in turn, and every failed try builds a
/// DecodingError: thousands of small nested values made one line cost seconds of CPU
/// (FuzzControlRequest: 200 arrays 16 deep, 6 KB, took 0.9 s). Real requests are objects a
/// few levels deep with a few dozen values, so lines far beyond that are refused unread.
package enum JSONRequestShape {
    package static let maximumDepth = 16
    package static let maximumElements = 1024

    /// What is wrong with `line`'s shape, or nil when it is small enough to decode.
    /// Counts brackets and commas outside strings; the JSON itself is checked by the decoder.
    package static func problem(_ line: [UInt8]) -> String? {
        var depth = 0
        var elements = 1
        var inString = false
        var escaped = false
        for byte in line {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                elements += 1
                if depth > maximumDepth { return "the request nests deeper than \(maximumDepth) levels" }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
            case UInt8(ascii: ","):
                elements += 1
            default:
                continue
            }
            if elements > maximumElements { return "the request holds more than \(maximumElements) values" }
        }
        return nil
    }
}
