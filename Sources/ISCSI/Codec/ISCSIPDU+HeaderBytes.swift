// A PDU's basic header segment as bytes, for the data segment of a Reject (RFC 7143 §11.17).

import NIOCore

extension ISCSIPDU {
    /// The 48-byte BHS this PDU has on the wire (without AHS or digest).
    public var basicHeaderSegmentBytes: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeBasicHeaderSegment(
            basicHeaderSegment(totalAHSLength: 0, dataSegmentLength: UInt32(dataSegment.readableBytes))
        )
        return buffer
    }
}
