// Parsing and writing Additional Header Segments (RFC 7143 §11.2.2): each AHS checked against its own length and its type's size.

import NIOCore

extension ByteBuffer {
    /// Reads the whole AHS area (the caller has sliced exactly TotalAHSLength bytes).
    ///
    /// Each AHS must fit in what is left; types this codec knows must have the
    /// length their type defines and appear once. Unknown types (reserved codes,
    /// the non-iSCSI extension codes 60-63) are skipped: their AHSLength still
    /// has to be consistent, so the next AHS starts where it should.
    mutating func readAdditionalHeaderSegments(of opcode: ISCSIOpcode) throws -> AdditionalHeaderSegments {
        var result = AdditionalHeaderSegments()
        while self.readableBytes > 0 {
            let offset = self.readerIndex
            guard let (ahsLength, typeByte) = self.readMultipleIntegers(as: (UInt16, UInt8).self) else {
                throw ISCSIError.malformed(
                    opcode,
                    "AHS at offset \(offset) is cut short: \(self.readableBytes) bytes left, an AHS needs at least 4"
                )
            }
            // AHSLength counts the type-specific byte and the data, not AHSLength/AHSType nor padding.
            let body = Int(ahsLength)
            let padded = body + ISCSIFraming.padding(for: 3 + body)
            guard padded <= self.readableBytes else {
                throw ISCSIError.malformed(
                    opcode,
                    "AHSLength \(ahsLength) (type \(typeByte & 0x3F)) runs past TotalAHSLength: \(self.readableBytes) bytes left"
                )
            }
            var segment = self.readSlice(length: body)!
            self.moveReaderIndex(forwardBy: padded - body)

            switch AdditionalHeaderSegments.Kind(rawValue: typeByte & 0x3F) {
            case .extendedCDB:
                guard body >= 2 else {
                    throw ISCSIError.malformed(opcode, "Extended CDB AHS with AHSLength \(ahsLength): needs at least 2")
                }
                guard result.extendedCDB == nil else {
                    throw ISCSIError.malformed(opcode, "two Extended CDB AHSs in one PDU")
                }
                segment.moveReaderIndex(forwardBy: 1)  // reserved byte
                result.extendedCDB = segment
            case .bidirectionalReadLength:
                guard ahsLength == AdditionalHeaderSegments.bidirectionalAHSLength else {
                    throw ISCSIError.malformed(
                        opcode,
                        "Bidirectional Read Expected Data Transfer Length AHS with AHSLength \(ahsLength), must be 5"
                    )
                }
                guard result.bidirectionalReadDataLength == nil else {
                    throw ISCSIError.malformed(opcode, "two Bidirectional Read Expected Data Transfer Length AHSs in one PDU")
                }
                segment.moveReaderIndex(forwardBy: 1)
                result.bidirectionalReadDataLength = segment.readInteger(as: UInt32.self)
            case nil:
                continue
            }
        }
        return result
    }

    /// Writes an Extended CDB AHS for the CDB bytes past the 16 the BHS holds.
    mutating func writeExtendedCDBAdditionalHeader(_ cdb: [UInt8]) {
        let extra = cdb.count - 16
        precondition(extra > 0)
        self.writeMultipleIntegers(
            UInt16(extra + 1),
            AdditionalHeaderSegments.Kind.extendedCDB.rawValue,
            UInt8(0)
        )
        cdb[16...].withUnsafeBytes { _ = self.writeBytes($0) }
        self.writeRepeatingByte(0, count: ISCSIFraming.padding(for: 4 + extra))
    }

    /// Writes a Bidirectional Read Expected Data Transfer Length AHS.
    mutating func writeBidirectionalReadLengthAdditionalHeader(_ length: UInt32) {
        self.writeMultipleIntegers(
            AdditionalHeaderSegments.bidirectionalAHSLength,
            AdditionalHeaderSegments.Kind.bidirectionalReadLength.rawValue,
            UInt8(0),
            length
        )
    }
}
