// Sizes and limits of PDU framing (RFC 7143 §11.1, §11.2), named once for the encoder, the decoder and their tests.

/// Framing constants. Every length the decoder reads off the wire is checked
/// against one of these before a byte of what it announces is buffered.
public enum ISCSIFraming {
    /// The Basic Header Segment is always 48 bytes (§11.2.1).
    public static let basicHeaderSegmentLength = 48

    /// A CRC32C header or data digest is 4 bytes (§11.1, §13.1).
    public static let digestLength = 4

    /// DataSegmentLength is a 24-bit field (§11.2.1.5): no PDU can carry more.
    public static let maximumDataSegmentLength = 0xFF_FFFF

    /// The largest TotalAHSLength accepted, in bytes.
    ///
    /// The wire field could announce 255 words (1020 bytes), but the only AHS
    /// types RFC 7143 defines are an Extended CDB (at most 244 bytes past the
    /// BHS's 16 for SPC's 260-byte maximum CDB, so 248 on the wire) and the
    /// 8-byte Bidirectional Read Length. 512 bytes holds both with room for a
    /// vendor AHS; anything longer is malformed rather than something to buffer.
    public static let maximumTotalAHSLength = 512

    /// The longest CDB the encoder can send: 16 bytes in the BHS plus an
    /// Extended CDB AHS that must fit in `maximumTotalAHSLength` with the
    /// bidirectional AHS beside it (SPC's own limit is 260).
    public static let maximumCDBLength = 260

    /// Bytes of padding that bring `length` to a multiple of 4 (§11.1: the data segment and each AHS are padded).
    @inlinable
    public static func padding(for length: Int) -> Int {
        (4 &- (length & 3)) & 3
    }
}
