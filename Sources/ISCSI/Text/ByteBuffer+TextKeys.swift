// Reading and writing NUL-terminated key=value text (RFC 7143 §6.1) in ByteBuffers,
// with the length limits checked before anything is kept.

import NIOCore

extension ByteBuffer {
    /// Text made of `pairs`, each written as `key=value` and a NUL byte.
    public init(textKeyValues pairs: [TextKeyValue]) {
        self.init()
        self.writeTextKeyValues(pairs)
    }

    /// Appends `pairs` as `key=value\0...`; returns the bytes written.
    @discardableResult
    public mutating func writeTextKeyValues(_ pairs: [TextKeyValue]) -> Int {
        var written = 0
        for pair in pairs {
            written += self.writeString(pair.key)
            written += self.writeInteger(UInt8(ascii: "="))
            written += self.writeString(pair.value)
            written += self.writeInteger(UInt8(0))
        }
        return written
    }

    /// Consumes every readable byte as complete `key=value\0` pairs.
    ///
    /// The text must end with a NUL byte: a caller that has only part of a
    /// multi-PDU text uses `TextSegmentAccumulator` first. Empty entries (two
    /// NULs in a row) are skipped, as some targets pad their text that way. On
    /// error the reader index is left where it was.
    public mutating func readTextKeyValues(limits: TextKeyLimits) throws(ISCSIError) -> [TextKeyValue] {
        let pairs = try TextKeyValue.parse(self.readableBytesView, limits: limits)
        self.moveReaderIndex(forwardBy: self.readableBytes)
        return pairs
    }
}

extension TextKeyValue {
    /// Characters RFC 7143 §6.1 allows in a key name besides letters and digits.
    private static let keyPunctuation: Set<UInt8> = [
        UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "@"), UInt8(ascii: "_"), UInt8(ascii: "#"),
    ]

    static func parse(_ bytes: some Collection<UInt8>, limits: TextKeyLimits) throws(ISCSIError) -> [TextKeyValue] {
        guard bytes.count <= limits.maximumTotalLength else {
            throw malformed("text of \(bytes.count) bytes exceeds the limit of \(limits.maximumTotalLength) bytes")
        }
        let bytes = Array(bytes)
        var pairs: [TextKeyValue] = []
        var start = 0
        while start < bytes.count {
            guard let end = bytes[start...].firstIndex(of: 0) else {
                throw malformed("text does not end with a NUL byte after '\(excerpt(bytes[start...]))'")
            }
            defer { start = end + 1 }
            if end == start { continue }
            let entry = bytes[start..<end]
            guard let equals = entry.firstIndex(of: UInt8(ascii: "=")) else {
                throw malformed("'\(excerpt(entry))' is not of the form key=value")
            }
            let keyBytes = bytes[start..<equals]
            let valueBytes = bytes[(equals + 1)..<end]
            let key = try parseKey(keyBytes)
            let limit = limits.maximumValueLength(forKey: key)
            guard valueBytes.count <= limit else {
                throw malformed("value of key \(key) is \(valueBytes.count) bytes long; at most \(limit) are allowed")
            }
            guard let value = String(validating: valueBytes, as: UTF8.self) else {
                throw malformed("value of key \(key) is not valid UTF-8")
            }
            pairs.append(TextKeyValue(key, value))
        }
        return pairs
    }

    private static func parseKey(_ bytes: ArraySlice<UInt8>) throws(ISCSIError) -> String {
        guard !bytes.isEmpty else { throw malformed("a key=value pair has an empty key") }
        guard bytes.count <= TextKeyLimits.maximumKeyLength else {
            throw malformed(
                "key '\(excerpt(bytes))' is \(bytes.count) bytes long; at most \(TextKeyLimits.maximumKeyLength) are allowed"
            )
        }
        guard let first = bytes.first, isLetter(first) else {
            throw malformed("key '\(excerpt(bytes))' does not start with a letter")
        }
        for byte in bytes where !(isLetter(byte) || isDigit(byte) || keyPunctuation.contains(byte)) {
            throw malformed("key '\(excerpt(bytes))' contains the byte 0x\(String(byte, radix: 16))")
        }
        // Only ASCII passed the checks above, so this cannot fail.
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// A short, printable rendering of untrusted bytes for error messages.
    static func excerpt(_ bytes: some Collection<UInt8>) -> String {
        let shown = bytes.prefix(40).map { byte -> Character in
            (0x20..<0x7F).contains(byte) ? Character(Unicode.Scalar(byte)) : "?"
        }
        return String(shown) + (bytes.count > 40 ? "…" : "")
    }

    private static func malformed(_ message: String) -> ISCSIError {
        ISCSIError(.protocolViolation, scope: .connection, "malformed iSCSI text: \(message)")
    }
}
