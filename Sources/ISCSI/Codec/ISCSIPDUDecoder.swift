// Frames and parses iSCSI PDUs from a TCP byte stream (RFC 7143 §11.1-§11.2, digests §13.1).

import NIOCore

/// Turns bytes into `ISCSIPDU`s, one PDU per `decode` call.
///
/// Two read states: waiting for a header, then (for a PDU with a data
/// segment) waiting for the data with the parsed header kept, so a 256 KiB
/// Data-In that arrives over many reads is not re-parsed nor its header
/// digest recomputed on every read.
///
/// Every length from the wire is checked before the bytes it announces are
/// waited for: TotalAHSLength against `ISCSIFraming.maximumTotalAHSLength`,
/// DataSegmentLength against `settings.maxDataSegmentLength`. With header
/// digests on, the digest is checked first (a flipped length bit is then
/// reported as what it is, a digest error); that waits for at most the
/// 48-byte BHS, the AHS (at most 1020 bytes by its 1-byte field) and 4 bytes.
///
/// Data segments are `readSlice`s of the input: the payload is never copied.
/// With `settings.payloadDestination` set, a segment of at least `streamingLength`
/// bytes is instead copied once, piece by piece as it arrives, into the buffer that
/// destination names (a read's own result buffer, for the initiator).
///
/// Install it as `ByteToMessageHandler(decoder, maximumBufferSize: ...)` or in
/// a `NIOSingleStepByteToMessageProcessor`; keep `settings` to change limits
/// and digests between PDUs (see `Settings` for why that is a shared class).
public struct ISCSIPDUDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = ISCSIPDU

    /// Whose opcodes are accepted; the other side's are `.unexpectedPDU`.
    public let direction: Direction
    /// Limits and digests, read afresh at every PDU header.
    public let settings: Settings

    /// Segments this long or longer go to `settings.payloadDestination` when it is set.
    public static let streamingLength = 64 * 1024

    private var state: ReadState = .waitingForHeader

    private enum ReadState {
        case waitingForHeader
        /// Header consumed; the data segment (plus padding and digest) is still to come.
        case waitingForData(PendingPDU)
        /// Header consumed; the data segment is being copied into a destination as it arrives.
        case streamingData(StreamingPDU)
    }

    private struct StreamingPDU {
        var pending: PendingPDU
        /// The payload goes in at `start`; bytes before it are the destination's own.
        var destination: ByteBuffer
        var start: Int
        /// The data digest over the payload so far.
        var crc: UInt32 = 0

        var received: Int { destination.writerIndex - start }
    }

    private struct PendingPDU {
        /// Parsed from the header, with an empty data segment.
        var pdu: ISCSIPDU
        /// BHS + AHS + header digest, already consumed (for the EOF message).
        var headerWireLength: Int
        var dataLength: Int
        /// Data plus padding: what the data digest covers.
        var paddedLength: Int
        /// Whether this PDU has a data digest: decided when its header was read.
        var dataDigest: Bool

        var dataWireLength: Int { paddedLength + (dataDigest ? ISCSIFraming.digestLength : 0) }
    }

    public init(
        accepting direction: Direction,
        maxDataSegmentLength: Int = 8192,
        headerDigest: Bool = false,
        dataDigest: Bool = false
    ) {
        self.init(
            accepting: direction,
            settings: Settings(
                maxDataSegmentLength: maxDataSegmentLength,
                headerDigest: headerDigest,
                dataDigest: dataDigest
            )
        )
    }

    /// A decoder reading its limits from `settings`, which the caller keeps to change them later.
    public init(accepting direction: Direction, settings: Settings) {
        self.direction = direction
        self.settings = settings
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ISCSIPDU? {
        while true {
            switch self.state {
            case .waitingForHeader:
                guard let pending = try self.readHeader(from: &buffer) else { return nil }
                if pending.dataLength == 0 { return pending.pdu }
                if pending.dataLength >= Self.streamingLength, let payloadDestination = self.settings.payloadDestination {
                    let destination =
                        payloadDestination(pending.pdu, pending.dataLength)
                        ?? ByteBufferAllocator().buffer(capacity: pending.dataLength)
                    self.state = .streamingData(StreamingPDU(pending: pending, destination: destination, start: destination.writerIndex))
                } else {
                    self.state = .waitingForData(pending)
                }
            case .streamingData(var streaming):
                // Out of the state while it is written to, so the destination stays uniquely referenced.
                self.state = .waitingForHeader
                guard let pdu = try Self.stream(&streaming, from: &buffer) else {
                    self.state = .streamingData(streaming)
                    return nil
                }
                return pdu
            case .waitingForData(let pending):
                guard let data = try Self.readDataSegment(of: pending, from: &buffer) else { return nil }
                self.state = .waitingForHeader
                var pdu = pending.pdu
                pdu.attachDataSegment(data)
                return pdu
            }
        }
    }

    /// Bytes left at EOF are a PDU the peer never finished: that is reported as
    /// `.connectionClosed` (scope `.connection`), not `.malformedPDU`, because
    /// nothing was wrong with what did arrive; the session reacts as to any
    /// lost connection. Without EOF (the handler is being removed) leftover
    /// bytes are left to the pipeline.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ISCSIPDU? {
        if let pdu = try self.decode(buffer: &buffer) { return pdu }
        guard seenEOF else { return nil }
        switch self.state {
        case .waitingForHeader:
            guard buffer.readableBytes > 0 else { return nil }
            throw Self.closedMidPDU(have: buffer.readableBytes, of: self.announcedWireLength(of: buffer))
        case .waitingForData(let pending):
            throw Self.closedMidPDU(
                have: pending.headerWireLength + buffer.readableBytes,
                of: pending.headerWireLength + pending.dataWireLength
            )
        case .streamingData(let streaming):
            let pending = streaming.pending
            throw Self.closedMidPDU(
                have: pending.headerWireLength + streaming.received + buffer.readableBytes,
                of: pending.headerWireLength + pending.dataWireLength
            )
        }
    }

    // MARK: Header

    private func readHeader(from buffer: inout ByteBuffer) throws -> PendingPDU? {
        let bhsLength = ISCSIFraming.basicHeaderSegmentLength
        guard buffer.readableBytes >= bhsLength else { return nil }

        let start = buffer.readerIndex
        let opcodeByte = buffer.getInteger(at: start, as: UInt8.self)!
        let lengths = buffer.getInteger(at: start + 4, as: UInt32.self)!
        let ahsLength = Int(lengths >> 24) * 4
        let dataLength = Int(lengths & 0x00FF_FFFF)
        let headerLength = bhsLength + ahsLength
        let headerDigest = self.settings.headerDigest
        let dataDigest = self.settings.dataDigest

        let opcode: ISCSIOpcode
        if headerDigest {
            // Bounded wait: the AHS can announce at most 1020 bytes.
            guard buffer.readableBytes >= headerLength + ISCSIFraming.digestLength else { return nil }
            let received = buffer.getInteger(at: start + headerLength, endianness: .little, as: UInt32.self)!
            let computed = buffer.crc32c(length: headerLength)
            guard received == computed else {
                throw ISCSIError(
                    .headerDigestMismatch,
                    scope: .connection,
                    "header digest of a PDU with opcode byte 0x\(ISCSIError.hex(opcodeByte)) is 0x\(ISCSIError.hex(received)), "
                        + "computed 0x\(ISCSIError.hex(computed)) over \(headerLength) header bytes"
                )
            }
            opcode = try self.checkFraming(opcodeByte: opcodeByte, ahsLength: ahsLength, dataLength: dataLength)
        } else {
            // Checked before waiting for the AHS or the data, so a bogus length never makes us buffer.
            opcode = try self.checkFraming(opcodeByte: opcodeByte, ahsLength: ahsLength, dataLength: dataLength)
            guard buffer.readableBytes >= headerLength else { return nil }
        }

        do {
            let header = buffer.readBasicHeaderSegment()!
            var additionalHeaders = AdditionalHeaderSegments()
            if ahsLength > 0 {
                var area = buffer.readSlice(length: ahsLength)!
                additionalHeaders = try area.readAdditionalHeaderSegments(of: opcode)
            }
            if headerDigest {
                buffer.moveReaderIndex(forwardBy: ISCSIFraming.digestLength)
            }
            let pdu = try ISCSIPDU(header: header, opcode: opcode, additionalHeaders: additionalHeaders)
            return PendingPDU(
                pdu: pdu,
                headerWireLength: buffer.readerIndex - start,
                dataLength: dataLength,
                paddedLength: dataLength + ISCSIFraming.padding(for: dataLength),
                dataDigest: dataDigest && dataLength > 0
            )
        } catch {
            buffer.moveReaderIndex(to: start)
            throw error
        }
    }

    /// Opcode known and from the right side, AHS and data segment within their limits.
    private func checkFraming(opcodeByte: UInt8, ahsLength: Int, dataLength: Int) throws -> ISCSIOpcode {
        guard let opcode = ISCSIOpcode(rawValue: opcodeByte & 0x3F) else {
            throw ISCSIError.malformed(
                "unknown opcode 0x\(ISCSIError.hex(opcodeByte & 0x3F)) (byte 0 is 0x\(ISCSIError.hex(opcodeByte))) \(self.direction)"
            )
        }
        guard self.direction.accepts(opcode) else {
            throw ISCSIError(
                .unexpectedPDU,
                scope: .connection,
                "received \(opcode) (opcode 0x\(ISCSIError.hex(opcode.rawValue))) \(self.direction), "
                    + "but only the other side sends it"
            )
        }
        guard ahsLength <= ISCSIFraming.maximumTotalAHSLength else {
            throw ISCSIError.malformed(
                opcode,
                "TotalAHSLength \(ahsLength / 4) words (\(ahsLength) bytes) exceeds the \(ISCSIFraming.maximumTotalAHSLength)-byte maximum"
            )
        }
        let limit = self.settings.maxDataSegmentLength
        guard dataLength <= limit else {
            throw ISCSIError(
                .dataSegmentTooLong,
                scope: .connection,
                "\(opcode) PDU (opcode 0x\(ISCSIError.hex(opcode.rawValue))): DataSegmentLength \(dataLength) "
                    + "exceeds MaxRecvDataSegmentLength \(limit)"
            )
        }
        return opcode
    }

    // MARK: Data segment

    private static func readDataSegment(of pending: PendingPDU, from buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard buffer.readableBytes >= pending.dataWireLength else { return nil }
        if pending.dataDigest {
            let received = buffer.getInteger(
                at: buffer.readerIndex + pending.paddedLength,
                endianness: .little,
                as: UInt32.self
            )!
            try checkDataDigest(received, computed: buffer.crc32c(length: pending.paddedLength), of: pending)
        }
        let data = buffer.readSlice(length: pending.dataLength)!
        buffer.moveReaderIndex(forwardBy: pending.dataWireLength - pending.dataLength)
        return data
    }

    /// Moves what has arrived of a streamed segment into its destination; returns the PDU
    /// once the payload, its padding and its digest are all in.
    private static func stream(_ streaming: inout StreamingPDU, from buffer: inout ByteBuffer) throws -> ISCSIPDU? {
        let pending = streaming.pending
        let missing = pending.dataLength - streaming.received
        if missing > 0 {
            let count = min(missing, buffer.readableBytes)
            var piece = buffer.readSlice(length: count)!
            if pending.dataDigest { streaming.crc = piece.crc32c(continuing: streaming.crc) }
            streaming.destination.writeBuffer(&piece)
            guard count == missing else { return nil }
        }
        let padding = pending.paddedLength - pending.dataLength
        guard buffer.readableBytes >= pending.dataWireLength - pending.dataLength else { return nil }
        if pending.dataDigest {
            let computed = buffer.getSlice(at: buffer.readerIndex, length: padding)!.crc32c(continuing: streaming.crc)
            let received = buffer.getInteger(at: buffer.readerIndex + padding, endianness: .little, as: UInt32.self)!
            try checkDataDigest(received, computed: computed, of: pending)
        }
        buffer.moveReaderIndex(forwardBy: pending.dataWireLength - pending.dataLength)
        var pdu = pending.pdu
        var data = streaming.destination
        data.moveReaderIndex(to: streaming.start)
        pdu.attachDataSegment(data)
        return pdu
    }

    private static func checkDataDigest(_ received: UInt32, computed: UInt32, of pending: PendingPDU) throws {
        guard received == computed else {
            throw ISCSIError(
                .dataDigestMismatch,
                scope: .connection,
                "\(pending.pdu.opcode) PDU (ITT 0x\(ISCSIError.hex(pending.pdu.initiatorTaskTag))): data digest is "
                    + "0x\(ISCSIError.hex(received)), computed 0x\(ISCSIError.hex(computed)) over \(pending.paddedLength) bytes"
            )
        }
    }

    // MARK: End of stream

    /// What the PDU starting at the reader index will take on the wire, as far as the bytes present tell.
    private func announcedWireLength(of buffer: ByteBuffer) -> Int {
        let digest = ISCSIFraming.digestLength
        var length = ISCSIFraming.basicHeaderSegmentLength + (self.settings.headerDigest ? digest : 0)
        if let lengths = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt32.self) {
            let dataLength = Int(lengths & 0x00FF_FFFF)
            length += Int(lengths >> 24) * 4
            if dataLength > 0 {
                length += dataLength + ISCSIFraming.padding(for: dataLength) + (self.settings.dataDigest ? digest : 0)
            }
        }
        return length
    }

    private static func closedMidPDU(have: Int, of total: Int) -> ISCSIError {
        ISCSIError(
            .connectionClosed,
            scope: .connection,
            "connection closed in the middle of a PDU (\(have) of \(total) bytes)"
        )
    }
}
