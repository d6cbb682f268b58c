// The decoder's negotiated limits (RFC 7143 §13.12 MaxRecvDataSegmentLength, §13.1 digests), shared with the channel handler.

import NIOCore

extension ISCSIPDUDecoder {
    /// Limits and digest switches the decoder reads at the start of every PDU.
    ///
    /// Why a class: the channel handler must change these between two PDUs
    /// of one read burst (digests switch on right after the final Login
    /// Response, MaxRecvDataSegmentLength after negotiation), and it learns
    /// that inside `NIOSingleStepByteToMessageProcessor.process`'s callback.
    /// The processor keeps its decoder `internal`, and even if it were
    /// reachable, mutating it there would overlap the processor's own access
    /// (an exclusivity violation). A reference shared by the decoder and the
    /// handler avoids both: the handler writes `settings.headerDigest = true`
    /// in the callback, and the very next header the processor decodes sees it.
    ///
    /// It is not `Sendable` and needs no lock: one connection's handler and
    /// decoder run on the same event loop, and the compiler keeps the object
    /// from crossing to another isolation domain.
    ///
    /// A PDU is framed with the values in force when its header was read: the
    /// data digest of a PDU whose header is already parsed does not change.
    public final class Settings {
        /// Largest DataSegmentLength accepted (our declared MaxRecvDataSegmentLength); 8192 until negotiated.
        public var maxDataSegmentLength: Int {
            didSet { Self.check(maxDataSegmentLength) }
        }
        /// Expect a CRC32C after BHS+AHS.
        public var headerDigest: Bool
        /// Expect a CRC32C after every non-empty data segment.
        public var dataDigest: Bool
        /// Where the payload of a long data segment is copied as it arrives, asked once
        /// its header is read (see `ISCSIPDUDecoder.streamingLength`): the buffer returned
        /// gets the payload appended at its writer index and comes back as the PDU's data,
        /// read from where the payload starts; returning nil gets a buffer of the segment's
        /// size. Either way the input is consumed as it arrives, so the caller's receive
        /// buffers are never stitched together nor shared with a payload still held.
        /// nil (the default) keeps every data segment a slice of the input.
        public var payloadDestination: ((_ header: ISCSIPDU, _ length: Int) -> ByteBuffer?)?

        public init(maxDataSegmentLength: Int = 8192, headerDigest: Bool = false, dataDigest: Bool = false) {
            Self.check(maxDataSegmentLength)
            self.maxDataSegmentLength = maxDataSegmentLength
            self.headerDigest = headerDigest
            self.dataDigest = dataDigest
        }

        private static func check(_ length: Int) {
            precondition(
                (0...ISCSIFraming.maximumDataSegmentLength).contains(length),
                "maxDataSegmentLength \(length) is outside 0...\(ISCSIFraming.maximumDataSegmentLength) (24-bit field)"
            )
        }
    }
}

@available(*, unavailable)
extension ISCSIPDUDecoder.Settings: Sendable {}
