// The 48-byte Basic Header Segment as raw fields (RFC 7143 §11.2.1), the common shape every PDU is read into and written from.

/// One BHS, field by byte offset, before any opcode gives the fields a meaning.
///
/// Decoding reads all 48 bytes in one bounds-checked `readMultipleIntegers`, then
/// each opcode picks its fields from here; encoding fills one of these and writes
/// it the same way. That keeps every byte offset of §11 in one place per opcode
/// (`ISCSIPDU+BasicHeaderSegment.swift`) instead of scattered over buffer reads.
struct BasicHeaderSegment: Equatable {
    /// Byte 0: reserved bit, I bit, 6-bit opcode.
    var opcodeByte: UInt8
    /// Byte 1: the F bit and opcode-specific flags.
    var flags: UInt8
    var byte2: UInt8
    var byte3: UInt8
    /// Byte 4, in 4-byte words.
    var totalAHSLength: UInt8
    /// Bytes 5-7; only the low 24 bits exist on the wire.
    var dataSegmentLength: UInt32
    /// Bytes 8-15: the LUN, or ISID+TSIH for login, or reserved.
    var field8: UInt64
    /// Bytes 16-19.
    var initiatorTaskTag: UInt32
    var field20: UInt32
    var field24: UInt32
    var field28: UInt32
    var field32: UInt32
    var field36: UInt32
    var field40: UInt32
    var field44: UInt32

    init(
        opcodeByte: UInt8,
        flags: UInt8 = 0,
        byte2: UInt8 = 0,
        byte3: UInt8 = 0,
        totalAHSLength: UInt8 = 0,
        dataSegmentLength: UInt32 = 0,
        field8: UInt64 = 0,
        initiatorTaskTag: UInt32,
        field20: UInt32 = 0,
        field24: UInt32 = 0,
        field28: UInt32 = 0,
        field32: UInt32 = 0,
        field36: UInt32 = 0,
        field40: UInt32 = 0,
        field44: UInt32 = 0
    ) {
        self.opcodeByte = opcodeByte
        self.flags = flags
        self.byte2 = byte2
        self.byte3 = byte3
        self.totalAHSLength = totalAHSLength
        self.dataSegmentLength = dataSegmentLength
        self.field8 = field8
        self.initiatorTaskTag = initiatorTaskTag
        self.field20 = field20
        self.field24 = field24
        self.field28 = field28
        self.field32 = field32
        self.field36 = field36
        self.field40 = field40
        self.field44 = field44
    }

    /// The 6-bit opcode, without the I bit and the reserved top bit.
    var opcodeValue: UInt8 { opcodeByte & 0x3F }

    /// The I (immediate delivery) bit of byte 0.
    var immediate: Bool { opcodeByte & 0x40 != 0 }

    /// TotalAHSLength in bytes.
    var totalAHSBytes: Int { Int(totalAHSLength) &* 4 }

    func flag(_ mask: UInt8) -> Bool { flags & mask != 0 }
}
