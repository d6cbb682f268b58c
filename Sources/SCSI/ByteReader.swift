// Bounds-checked big-endian reads over a response buffer; every parser goes
// through it so that a short or lying response throws instead of trapping.

/// A read-only view of one structure's bytes that throws `SCSIParseError` on any
/// read past the end, naming the structure and the length the read needed.
struct ByteReader {
    let bytes: [UInt8]
    /// Where the structure starts inside `bytes`; offsets passed in are relative to it.
    let base: Int
    /// How many bytes belong to the structure (may be less than what is left of `bytes`).
    let count: Int
    let structure: String

    init(_ bytes: [UInt8], structure: String) {
        self.bytes = bytes
        self.base = 0
        self.count = bytes.count
        self.structure = structure
    }

    private init(bytes: [UInt8], base: Int, count: Int, structure: String) {
        self.bytes = bytes
        self.base = base
        self.count = count
        self.structure = structure
    }

    /// Throws unless the structure holds at least `needed` bytes.
    func require(_ needed: Int) throws(SCSIParseError) {
        if needed > count {
            throw .truncated(structure, needed: needed, had: count)
        }
    }

    func invalid(_ message: String) -> SCSIParseError {
        .invalid(structure, message, had: count)
    }

    func uint8(at offset: Int) throws(SCSIParseError) -> UInt8 {
        try require(offset + 1)
        return bytes[base + offset]
    }

    func bit(_ bit: Int, at offset: Int) throws(SCSIParseError) -> Bool {
        try uint8(at: offset) & (1 << bit) != 0
    }

    /// `width` bits of the byte at `offset`, the lowest of them at `shift`.
    func bits(at offset: Int, shift: Int, width: Int) throws(SCSIParseError) -> UInt8 {
        (try uint8(at: offset) >> shift) & UInt8((1 << width) - 1)
    }

    func uint16(at offset: Int) throws(SCSIParseError) -> UInt16 {
        UInt16(try bigEndian(at: offset, width: 2))
    }

    func uint24(at offset: Int) throws(SCSIParseError) -> UInt32 {
        UInt32(try bigEndian(at: offset, width: 3))
    }

    func uint32(at offset: Int) throws(SCSIParseError) -> UInt32 {
        UInt32(try bigEndian(at: offset, width: 4))
    }

    func uint64(at offset: Int) throws(SCSIParseError) -> UInt64 {
        try bigEndian(at: offset, width: 8)
    }

    /// An unsigned big-endian integer of 1 to 8 bytes.
    func bigEndian(at offset: Int, width: Int) throws(SCSIParseError) -> UInt64 {
        try require(offset + width)
        var value: UInt64 = 0
        for index in 0..<width {
            value = value << 8 | UInt64(bytes[base + offset + index])
        }
        return value
    }

    func bytes(at offset: Int, count length: Int) throws(SCSIParseError) -> [UInt8] {
        try require(offset + length)
        return Array(bytes[(base + offset)..<(base + offset + length)])
    }

    /// ASCII text with trailing spaces and NULs dropped (and leading spaces, which
    /// some targets use to right-align serial numbers).
    func text(at offset: Int, count length: Int) throws(SCSIParseError) -> String {
        ByteReader.trimmedText(try bytes(at: offset, count: length))
    }

    /// A nested structure of `length` bytes at `offset`, read under its own name.
    func subReader(at offset: Int, count length: Int, structure: String) throws(SCSIParseError) -> ByteReader {
        try require(offset + length)
        return ByteReader(bytes: bytes, base: base + offset, count: length, structure: structure)
    }

    static func trimmedText(_ raw: [UInt8]) -> String {
        let isPadding: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x00 }
        guard let first = raw.firstIndex(where: { !isPadding($0) }),
              let last = raw.lastIndex(where: { !isPadding($0) })
        else { return "" }
        // Non-printable bytes would garble log lines; show them as '?'.
        let printable = raw[first...last].map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: "?") }
        return String(decoding: printable, as: UTF8.self)
    }
}
