// How both sides of the protocol (the initiator's connection and the export's) put one PDU
// on a channel.

import NIOCore

extension ISCSIPDUEncoder {
    /// Writes `pdu` to `context` as up to three buffers, without flushing: the header (with its
    /// digest), the data segment as the caller's own buffer (a Data-In slice is never copied),
    /// and the padding and data digest.
    public func write(_ pdu: ISCSIPDU, to context: ChannelHandlerContext) {
        var header = context.channel.allocator.buffer(capacity: 64)
        let data = encodeHeader(pdu, into: &header)
        context.write(NIOAny(header), promise: nil)
        guard data.readableBytes > 0 else { return }
        context.write(NIOAny(data), promise: nil)
        var trailer = context.channel.allocator.buffer(capacity: 8)
        encodeTrailer(forDataSegment: data, into: &trailer)
        if trailer.readableBytes > 0 { context.write(NIOAny(trailer), promise: nil) }
    }
}
