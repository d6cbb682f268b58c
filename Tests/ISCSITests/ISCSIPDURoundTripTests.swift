// Every PDU type survives encode → decode (RFC 7143 §11), with each digest setting, AHS, and odd data lengths.

import ISCSI
import NIOCore
import Testing

@Suite struct ISCSIPDURoundTripTests {
    @Test(arguments: CodecTestSupport.allDigests)
    func initiatorPDUsRoundTrip(digests: CodecTestSupport.Digests) throws {
        try roundTrip(SamplePDUs.fromInitiator, direction: .fromInitiator, digests: digests)
    }

    @Test(arguments: CodecTestSupport.allDigests)
    func targetPDUsRoundTrip(digests: CodecTestSupport.Digests) throws {
        try roundTrip(SamplePDUs.fromTarget, direction: .fromTarget, digests: digests)
    }

    private func roundTrip(_ pdus: [ISCSIPDU], direction: ISCSIPDUDecoder.Direction, digests: CodecTestSupport.Digests) throws {
        let encoder = CodecTestSupport.encoder(digests)
        for pdu in pdus {
            var buffer = ByteBuffer()
            encoder.encode(pdu, into: &buffer)
            #expect(buffer.readableBytes == encoder.wireLength(of: pdu), "\(pdu.opcode)")
            #expect(buffer.readableBytes % 4 == 0, "\(pdu.opcode): PDUs end on a word boundary")
            var decoder = CodecTestSupport.decoder(direction, digests)
            let decoded = try decoder.decode(buffer: &buffer)
            #expect(decoded == pdu)
            #expect(buffer.readableBytes == 0, "\(pdu.opcode): every byte consumed")
        }
        // And all of them back to back in one buffer.
        var stream = CodecTestSupport.encode(pdus, with: encoder)
        var decoder = CodecTestSupport.decoder(direction, digests)
        #expect(try CodecTestSupport.decodeAll(&stream, with: &decoder) == pdus)
        #expect(stream.readableBytes == 0)
    }

    @Test func shortCDBComesBackZeroPaddedToSixteen() throws {
        let command = SCSICommand(
            read: true, write: false, lun: 0, initiatorTaskTag: 9, expectedDataTransferLength: 512, cmdSN: 1,
            expStatSN: 1, cdb: [0x28, 0, 0, 0, 0, 8, 0, 0, 1, 0]
        )
        var buffer = ByteBuffer()
        ISCSIPDUEncoder().encode(.scsiCommand(command), into: &buffer)
        #expect(buffer.readableBytes == 48, "a 10-byte CDB needs no AHS")
        var decoder = ISCSIPDUDecoder(accepting: .fromInitiator)
        let decoded = try decoder.decode(buffer: &buffer)
        #expect(decoded == CodecTestSupport.normalised(.scsiCommand(command)))
    }

    @Test(arguments: [16, 17, 18, 19, 20, 21, 32, 33, 100, 260])
    func extendedCDBLengths(length: Int) throws {
        let cdb = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
        let pdu = ISCSIPDU.scsiCommand(
            SCSICommand(
                read: false, write: true, lun: 1, initiatorTaskTag: 1, expectedDataTransferLength: 1, cmdSN: 1,
                expStatSN: 1, cdb: cdb, bidirectionalReadDataLength: length.isMultiple(of: 2) ? 77 : nil,
                data: SamplePDUs.bytes(length, seed: UInt64(length))
            )
        )
        for digests in CodecTestSupport.allDigests {
            var buffer = ByteBuffer()
            CodecTestSupport.encoder(digests).encode(pdu, into: &buffer)
            var decoder = CodecTestSupport.decoder(.fromInitiator, digests)
            #expect(try decoder.decode(buffer: &buffer) == pdu)
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8, 255, 4095, 65535])
    func oddDataLengthsArePaddedAndStripped(length: Int) throws {
        let pdu = ISCSIPDU.dataIn(
            DataIn(
                final: true, initiatorTaskTag: 3, expCmdSN: 1, maxCmdSN: 2, dataSN: 0, bufferOffset: 0,
                data: SamplePDUs.bytes(length, seed: UInt64(length))
            )
        )
        for digests in CodecTestSupport.allDigests {
            var buffer = ByteBuffer()
            CodecTestSupport.encoder(digests).encode(pdu, into: &buffer)
            let expected = 48 + (digests.header ? 4 : 0) + (length + 3) / 4 * 4 + (digests.data ? 4 : 0)
            #expect(buffer.readableBytes == expected)
            var decoder = CodecTestSupport.decoder(.fromTarget, digests)
            #expect(try decoder.decode(buffer: &buffer) == pdu)
        }
    }

    @Test(arguments: CodecTestSupport.allDigests)
    func splitEncodingMatchesContiguousAndDoesNotCopyTheData(digests: CodecTestSupport.Digests) {
        let encoder = CodecTestSupport.encoder(digests)
        for pdu in SamplePDUs.fromInitiator + SamplePDUs.fromTarget {
            var whole = ByteBuffer()
            encoder.encode(pdu, into: &whole)

            var header = ByteBuffer()
            let data = encoder.encodeHeader(pdu, into: &header)
            var trailer = ByteBuffer()
            encoder.encodeTrailer(forDataSegment: data, into: &trailer)
            var joined = header
            joined.writeImmutableBuffer(data)
            joined.writeImmutableBuffer(trailer)
            #expect(joined == whole, "\(pdu.opcode)")

            // The returned data segment is the PDU's own storage, not a copy.
            let original = pdu.dataSegment
            if original.readableBytes > 0 {
                let same = original.withUnsafeReadableBytes { a in
                    data.withUnsafeReadableBytes { b in a.baseAddress == b.baseAddress }
                }
                #expect(same, "\(pdu.opcode): data segment was copied")
            } else {
                #expect(trailer.readableBytes == 0, "\(pdu.opcode): no padding or data digest without data")
            }
        }
    }

    @Test func decodedDataSegmentIsASliceOfTheInput() throws {
        let pdu = SamplePDUs.fromTarget.first { $0.opcode == .dataIn }!
        var buffer = ByteBuffer()
        ISCSIPDUEncoder().encode(pdu, into: &buffer)
        let inputBase = buffer.withUnsafeReadableBytes { $0.baseAddress! }
        var decoder = ISCSIPDUDecoder(accepting: .fromTarget, maxDataSegmentLength: 65536)
        let decoded = try #require(try decoder.decode(buffer: &buffer))
        let dataBase = decoded.dataSegment.withUnsafeReadableBytes { $0.baseAddress! }
        #expect(dataBase == inputBase + 48, "Data-In payload must point into the received bytes")
    }
}
