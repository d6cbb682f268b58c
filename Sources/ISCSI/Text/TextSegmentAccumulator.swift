// Joins text that a peer split over several PDUs with the C (continue) bit
// (RFC 7143 §6.1, §11.10, §11.13), bounding the total before buffering it.

import NIOCore

/// Collects data segments until one arrives without the C bit, then parses the whole.
///
/// RFC 7143 §6.1 lets a key=value pair span PDUs, even in the middle of a key, so
/// nothing is parsed until the text is complete.
public struct TextSegmentAccumulator: Sendable {
    public let limits: TextKeyLimits
    private var buffer: ByteBuffer

    public init(limits: TextKeyLimits) {
        self.limits = limits
        self.buffer = ByteBuffer()
    }

    /// Bytes held while waiting for the rest of the text.
    public var bufferedByteCount: Int { buffer.readableBytes }

    /// Adds one PDU's data segment.
    ///
    /// - Returns: nil while `continues` (the C bit) is set, else every pair of
    ///   the joined text; the accumulator is then empty again.
    public mutating func append(_ segment: ByteBuffer, continues: Bool) throws(ISCSIError) -> [TextKeyValue]? {
        let total = buffer.readableBytes + segment.readableBytes
        guard total <= limits.maximumTotalLength else {
            buffer.clear()
            throw ISCSIError(
                .protocolViolation,
                scope: .connection,
                "the peer's text grew to \(total) bytes over continued PDUs; at most \(limits.maximumTotalLength) are accepted"
            )
        }
        var segment = segment
        buffer.writeBuffer(&segment)
        guard !continues else { return nil }
        defer { buffer.clear() }
        return try buffer.readTextKeyValues(limits: limits)
    }
}
