// Cuts our own text into data segments no longer than the peer's
// MaxRecvDataSegmentLength (RFC 7143 §6.1, §13.12); all but the last carry the C bit.

import NIOCore

/// Splits outgoing text for PDUs with the C (continue) bit.
public enum TextSegmentSplitter {
    /// The segments to send, in order. Every segment but the last goes out with
    /// C=1. Empty text still yields one (empty) segment, since a PDU is sent anyway.
    ///
    /// RFC 7143 §6.1 allows a split anywhere, even inside a key, so the cut is
    /// made by bytes alone.
    public static func split(_ text: ByteBuffer, maximumSegmentLength: Int) -> [ByteBuffer] {
        precondition(maximumSegmentLength > 0, "a data segment limit must be positive")
        var text = text
        guard text.readableBytes > maximumSegmentLength else { return [text] }
        var segments: [ByteBuffer] = []
        segments.reserveCapacity(text.readableBytes / maximumSegmentLength + 1)
        while let segment = text.readSlice(length: min(maximumSegmentLength, text.readableBytes)),
            segment.readableBytes > 0
        {
            segments.append(segment)
        }
        return segments
    }
}
