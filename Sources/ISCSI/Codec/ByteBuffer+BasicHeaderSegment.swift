// Reading and writing the 48-byte Basic Header Segment (RFC 7143 §11.2.1) in one bounds check each way.

import NIOCore

extension ByteBuffer {
    /// Reads one BHS, or returns nil (reader index untouched) when fewer than 48 bytes are readable.
    mutating func readBasicHeaderSegment() -> BasicHeaderSegment? {
        // 14 integers cover the 48 bytes exactly; DataSegmentLength shares its word with TotalAHSLength.
        guard
            let (b0, b1, b2, b3, lengths, field8, itt, f20, f24, f28, f32, f36, f40, f44) = self.readMultipleIntegers(
                as: (
                    UInt8, UInt8, UInt8, UInt8, UInt32, UInt64, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
                    UInt32
                ).self
            )
        else {
            return nil
        }
        return BasicHeaderSegment(
            opcodeByte: b0,
            flags: b1,
            byte2: b2,
            byte3: b3,
            totalAHSLength: UInt8(truncatingIfNeeded: lengths >> 24),
            dataSegmentLength: lengths & 0x00FF_FFFF,
            field8: field8,
            initiatorTaskTag: itt,
            field20: f20,
            field24: f24,
            field28: f28,
            field32: f32,
            field36: f36,
            field40: f40,
            field44: f44
        )
    }

    /// Appends one BHS; returns the 48 bytes written.
    @discardableResult
    mutating func writeBasicHeaderSegment(_ header: BasicHeaderSegment) -> Int {
        precondition(
            header.dataSegmentLength <= UInt32(ISCSIFraming.maximumDataSegmentLength),
            "a data segment of \(header.dataSegmentLength) bytes does not fit the 24-bit DataSegmentLength"
        )
        let lengths = UInt32(header.totalAHSLength) << 24 | header.dataSegmentLength
        return self.writeMultipleIntegers(
            header.opcodeByte,
            header.flags,
            header.byte2,
            header.byte3,
            lengths,
            header.field8,
            header.initiatorTaskTag,
            header.field20,
            header.field24,
            header.field28,
            header.field32,
            header.field36,
            header.field40,
            header.field44
        )
    }
}
