// Serialises PDUs to the wire (RFC 7143 §11.1-§11.2, §13.1): BHS, AHS, header digest, data segment, padding, data digest.

import CCRC32C
import NIOCore

/// Writes iSCSI PDUs.
///
/// The channel handler owns one per connection and flips `headerDigest` and
/// `dataDigest` once login has negotiated them. For data PDUs it uses the split
/// API so the payload goes to the socket as its own buffer:
///
///     let data = encoder.encodeHeader(pdu, into: &header)
///     context.write(header); context.write(data)
///     encoder.encodeTrailer(forDataSegment: data, into: &trailer)
///     context.write(trailer)   // ...and one flush per batch
///
/// Misuse by our own code (a data segment over the 24-bit limit, an oversized
/// CDB) is a precondition failure, not a thrown error: nothing from the wire
/// reaches the encoder.
public struct ISCSIPDUEncoder: Sendable {
    /// Append a CRC32C over BHS+AHS (HeaderDigest=CRC32C negotiated).
    public var headerDigest: Bool
    /// Append a CRC32C over data segment+padding when there is a data segment (DataDigest=CRC32C negotiated).
    public var dataDigest: Bool

    public init(headerDigest: Bool = false, dataDigest: Bool = false) {
        self.headerDigest = headerDigest
        self.dataDigest = dataDigest
    }

    /// Appends the whole PDU to `buffer` as one contiguous run of bytes (copying the data segment).
    public func encode(_ pdu: ISCSIPDU, into buffer: inout ByteBuffer) {
        let data = self.encodeHeader(pdu, into: &buffer)
        buffer.writeImmutableBuffer(data)
        self.encodeTrailer(forDataSegment: data, into: &buffer)
    }

    /// Appends BHS, AHS and header digest; returns the data segment as a view of the PDU's own buffer (empty if none).
    public func encodeHeader(_ pdu: ISCSIPDU, into buffer: inout ByteBuffer) -> ByteBuffer {
        let data = pdu.dataSegment
        precondition(
            data.readableBytes <= ISCSIFraming.maximumDataSegmentLength,
            "\(pdu.opcode) data segment of \(data.readableBytes) bytes exceeds the 24-bit DataSegmentLength"
        )

        var ahsLength = 0
        var command: SCSICommand?
        if case .scsiCommand(let c) = pdu {
            precondition(
                c.cdb.count <= ISCSIFraming.maximumCDBLength,
                "a CDB of \(c.cdb.count) bytes exceeds the \(ISCSIFraming.maximumCDBLength)-byte maximum"
            )
            ahsLength = AdditionalHeaderSegments.extendedCDBWireLength(cdbLength: c.cdb.count)
            if c.bidirectionalReadDataLength != nil {
                ahsLength += AdditionalHeaderSegments.bidirectionalWireLength
            }
            command = c
        }

        let headerLength = ISCSIFraming.basicHeaderSegmentLength + ahsLength
        buffer.reserveCapacity(minimumWritableBytes: headerLength + (self.headerDigest ? ISCSIFraming.digestLength : 0))
        let start = buffer.writerIndex
        buffer.writeBasicHeaderSegment(
            pdu.basicHeaderSegment(
                totalAHSLength: UInt8(ahsLength / 4),
                dataSegmentLength: UInt32(data.readableBytes)
            )
        )
        if let command {
            if command.cdb.count > 16 {
                buffer.writeExtendedCDBAdditionalHeader(command.cdb)
            }
            if let length = command.bidirectionalReadDataLength {
                buffer.writeBidirectionalReadLengthAdditionalHeader(length)
            }
        }
        if self.headerDigest {
            let digest = buffer.crc32c(offset: start - buffer.readerIndex, length: headerLength)
            buffer.writeDigest(digest)
        }
        return data
    }

    /// Appends the padding and (if negotiated) the data digest that follow `data` on the wire; nothing for an empty segment.
    public func encodeTrailer(forDataSegment data: ByteBuffer, into buffer: inout ByteBuffer) {
        let count = data.readableBytes
        guard count > 0 else { return }
        let padding = ISCSIFraming.padding(for: count)
        buffer.writeRepeatingByte(0, count: padding)
        if self.dataDigest {
            // The digest covers the padding too (§11.1); padding is zeros, so no need to read it back.
            var crc = data.crc32c(continuing: 0)
            if padding > 0 {
                crc = withUnsafeBytes(of: UInt32(0)) { vdisk_crc32c(crc, $0.baseAddress, padding) }
            }
            buffer.writeDigest(crc)
        }
    }

    /// Bytes `pdu` takes on the wire with the current digest settings, for sizing buffers.
    public func wireLength(of pdu: ISCSIPDU) -> Int {
        var length = ISCSIFraming.basicHeaderSegmentLength
        if case .scsiCommand(let c) = pdu {
            length += AdditionalHeaderSegments.extendedCDBWireLength(cdbLength: c.cdb.count)
            if c.bidirectionalReadDataLength != nil { length += AdditionalHeaderSegments.bidirectionalWireLength }
        }
        if self.headerDigest { length += ISCSIFraming.digestLength }
        let count = pdu.dataSegment.readableBytes
        if count > 0 {
            length += count + ISCSIFraming.padding(for: count)
            if self.dataDigest { length += ISCSIFraming.digestLength }
        }
        return length
    }
}
