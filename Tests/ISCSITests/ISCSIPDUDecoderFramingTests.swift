// The decoder as a framer (RFC 7143 §11.1-§11.2, §13.1): partial input, limits, digests, EOF, garbage, direction.

import CCRC32C
import ISCSI
import NIOCore
import NIOTestUtils
import TestSupport
import Testing

@Suite struct ISCSIPDUDecoderFramingTests {
    // MARK: NIO's verifier: drip-fed bytes, many PDUs per buffer

    @Test(arguments: CodecTestSupport.allDigests)
    func verifierAcceptsTargetPDUs(digests: CodecTestSupport.Digests) throws {
        let encoder = CodecTestSupport.encoder(digests)
        // The verifier drip-feeds every byte through a channel ten times; the
        // 8 KiB payloads add minutes in debug builds and no path the smaller ones miss.
        let pairs = SamplePDUs.fromTarget.filter { $0.dataSegment.readableBytes < 4096 }.map { pdu in
            (CodecTestSupport.encode([pdu], with: encoder), [pdu])
        }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            CodecTestSupport.decoder(.fromTarget, digests)
        }
    }

    @Test(arguments: CodecTestSupport.allDigests)
    func verifierAcceptsInitiatorPDUs(digests: CodecTestSupport.Digests) throws {
        let encoder = CodecTestSupport.encoder(digests)
        // Several PDUs per input too: the verifier must see all of them come out of one buffer.
        let pdus = SamplePDUs.fromInitiator.filter { $0.dataSegment.readableBytes < 4096 }.map(CodecTestSupport.normalised)
        var pairs = pdus.map { (CodecTestSupport.encode([$0], with: encoder), [$0]) }
        pairs.append((CodecTestSupport.encode(Array(pdus.prefix(5)), with: encoder), Array(pdus.prefix(5))))
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            CodecTestSupport.decoder(.fromInitiator, digests)
        }
    }

    // MARK: Truncation

    @Test(arguments: CodecTestSupport.allDigests)
    func everyCutPointNeedsMoreInputAndThenCompletes(digests: CodecTestSupport.Digests) throws {
        let encoder = CodecTestSupport.encoder(digests)
        let samples: [(ISCSIPDU, ISCSIPDUDecoder.Direction)] =
            SamplePDUs.fromTarget.filter { $0.dataSegment.readableBytes < 300 }.map { ($0, .fromTarget) }
            + SamplePDUs.fromInitiator.filter { $0.dataSegment.readableBytes < 300 }.map { ($0, .fromInitiator) }
        for (pdu, direction) in samples {
            let whole = CodecTestSupport.encode([pdu], with: encoder)
            let dataLength = pdu.dataSegment.readableBytes
            let dataWire = dataLength == 0 ? 0 : dataLength + ISCSIFraming.padding(for: dataLength) + (digests.data ? 4 : 0)
            let headerEnd = whole.readableBytes - dataWire
            for cut in 0..<whole.readableBytes {
                var decoder = CodecTestSupport.decoder(direction, digests)
                var head = whole.getSlice(at: 0, length: cut)!
                let first = try decoder.decode(buffer: &head)
                #expect(first == nil, "\(pdu.opcode) cut at \(cut)")
                if cut < headerEnd {
                    #expect(head.readerIndex == 0, "\(pdu.opcode) cut at \(cut): reader index restored")
                }
                var rest = head
                rest.writeImmutableBuffer(whole.getSlice(at: cut, length: whole.readableBytes - cut)!)
                let completed = try decoder.decode(buffer: &rest)
                #expect(completed == CodecTestSupport.normalised(pdu), "\(pdu.opcode) cut at \(cut)")
            }
        }
    }

    @Test func closingMidPDUThrowsConnectionClosedWithTheByteCounts() throws {
        let pdu = SamplePDUs.fromTarget[0]  // NOP-In with 5 data bytes: 48 + 8 on the wire
        let whole = CodecTestSupport.encode([pdu], with: ISCSIPDUEncoder())
        for cut in [1, 7, 47, 48, 50, 55] {
            var decoder = ISCSIPDUDecoder(accepting: .fromTarget)
            var head = whole.getSlice(at: 0, length: cut)!
            #expect(try decoder.decode(buffer: &head) == nil)
            let error = CodecTestSupport.iscsiError { _ = try decoder.decodeLast(buffer: &head, seenEOF: true) }
            #expect(error?.code == .connectionClosed)
            #expect(error?.scope == .connection)
            let total = cut < 8 ? 48 : 56
            #expect(error?.message == "connection closed in the middle of a PDU (\(cut) of \(total) bytes)")
        }
    }

    @Test func cleanEOFAndRemovalWithoutEOFDoNotThrow() throws {
        var decoder = ISCSIPDUDecoder(accepting: .fromTarget)
        var empty = ByteBuffer()
        #expect(try decoder.decodeLast(buffer: &empty, seenEOF: true) == nil)
        var partial = ByteBuffer(bytes: [0x20, 0x80])
        #expect(try decoder.decodeLast(buffer: &partial, seenEOF: false) == nil)
        // A whole PDU before EOF still comes out of decodeLast.
        var whole = CodecTestSupport.encode([SamplePDUs.fromTarget[1]], with: ISCSIPDUEncoder())
        #expect(try decoder.decodeLast(buffer: &whole, seenEOF: true) == SamplePDUs.fromTarget[1])
    }

    // MARK: Limits before buffering

    @Test(arguments: [false, true])
    func oversizedDataSegmentThrowsFromTheHeaderAlone(headerDigest: Bool) throws {
        // A Data-In header announcing 16 MiB - 1 bytes, and nothing after it.
        var header = ByteBuffer()
        _ = ISCSIPDUEncoder(headerDigest: headerDigest).encodeHeader(
            .dataIn(DataIn(final: true, initiatorTaskTag: 1, expCmdSN: 1, maxCmdSN: 1, dataSN: 0, bufferOffset: 0, data: ByteBuffer())),
            into: &header
        )
        header.setInteger(UInt8(0xFF), at: 5)
        header.setInteger(UInt16(0xFFFF), at: 6)
        if headerDigest {
            // Re-seal the digest so the length itself is what gets judged.
            let crc = header.withUnsafeReadableBytes { vdisk_crc32c(0, $0.baseAddress, 48) }
            header.setInteger(crc, at: 48, endianness: .little)
        }
        #expect(header.readableBytes == 48 + (headerDigest ? 4 : 0))
        var decoder = ISCSIPDUDecoder(accepting: .fromTarget, maxDataSegmentLength: 8192, headerDigest: headerDigest)
        let error = CodecTestSupport.iscsiError { _ = try decoder.decode(buffer: &header) }
        #expect(error?.code == .dataSegmentTooLong)
        #expect(error?.scope == .connection)
        #expect(error?.message.contains("16777215") == true)
        #expect(error?.message.contains("8192") == true)
        #expect(error?.message.contains("SCSI Data-In") == true)
    }

    @Test func oversizedAHSThrowsFromTheHeaderAlone() throws {
        var header = ByteBuffer()
        ISCSIPDUEncoder().encode(SamplePDUs.fromInitiator[2], into: &header)
        header.setInteger(UInt8(255), at: 4)  // 1020 bytes of AHS announced, none present
        var decoder = ISCSIPDUDecoder(accepting: .fromInitiator)
        let error = CodecTestSupport.iscsiError { _ = try decoder.decode(buffer: &header) }
        #expect(error?.code == .malformedPDU)
        #expect(error?.message.contains("TotalAHSLength 255") == true)
    }

    @Test func dataSegmentLimitFollowsTheSharedSettings() throws {
        let big = SamplePDUs.fromTarget.first { $0.dataSegment.readableBytes == 8192 }!
        let settings = ISCSIPDUDecoder.Settings(maxDataSegmentLength: 4096)
        var decoder = ISCSIPDUDecoder(accepting: .fromTarget, settings: settings)
        var bytes = CodecTestSupport.encode([big], with: ISCSIPDUEncoder())
        #expect(CodecTestSupport.iscsiError { _ = try decoder.decode(buffer: &bytes) }?.code == .dataSegmentTooLong)
        settings.maxDataSegmentLength = 8192
        var again = CodecTestSupport.encode([big], with: ISCSIPDUEncoder())
        var fresh = ISCSIPDUDecoder(accepting: .fromTarget, settings: settings)
        #expect(try fresh.decode(buffer: &again) == big)
    }

    @Test func processorCallbackCanSwitchDigestsBetweenPDUs() throws {
        // The final Login Response without digests, then a NOP-In and a Data-In with both digests, in one read.
        let login = SamplePDUs.fromTarget.first { $0.opcode == .loginResponse }!
        let after = [SamplePDUs.fromTarget[0], SamplePDUs.fromTarget.first { $0.opcode == .dataIn }!]
        var stream = CodecTestSupport.encode([login], with: ISCSIPDUEncoder())
        var tail = CodecTestSupport.encode(after, with: ISCSIPDUEncoder(headerDigest: true, dataDigest: true))
        stream.writeBuffer(&tail)

        let settings = ISCSIPDUDecoder.Settings()
        let processor = NIOSingleStepByteToMessageProcessor(ISCSIPDUDecoder(accepting: .fromTarget, settings: settings))
        var received: [ISCSIPDU] = []
        try processor.process(buffer: stream) { pdu in
            received.append(pdu)
            if pdu.opcode == .loginResponse {
                settings.headerDigest = true
                settings.dataDigest = true
                settings.maxDataSegmentLength = 262144
            }
        }
        #expect(received == [login] + after)
        #expect(processor.unprocessedBytes == 0)
    }

    // MARK: Digests

    @Test(arguments: SamplePDUs.fromTarget)
    func corruptedHeaderDigestThrows(pdu: ISCSIPDU) throws {
        let encoder = ISCSIPDUEncoder(headerDigest: true, dataDigest: true)
        let clean = CodecTestSupport.encode([pdu], with: encoder)
        // Flip one bit in the BHS, then (separately) one in the digest itself.
        for offset in [0, 3, 17, 47, 48, 51] {
            var bytes = clean
            bytes.setInteger(bytes.getInteger(at: offset, as: UInt8.self)! ^ 0x10, at: offset)
            var decoder = CodecTestSupport.decoder(.fromTarget, CodecTestSupport.Digests(header: true, data: true))
            let error = CodecTestSupport.iscsiError { _ = try decoder.decode(buffer: &bytes) }
            #expect(error?.code == .headerDigestMismatch, "\(pdu.opcode) bit flipped at \(offset)")
            #expect(error?.scope == .connection)
        }
    }

    @Test(arguments: SamplePDUs.fromTarget.filter { $0.dataSegment.readableBytes > 0 })
    func corruptedDataDigestThrows(pdu: ISCSIPDU) throws {
        let encoder = ISCSIPDUEncoder(headerDigest: true, dataDigest: true)
        let clean = CodecTestSupport.encode([pdu], with: encoder)
        let dataStart = 52
        for offset in [dataStart, clean.readableBytes - 5, clean.readableBytes - 1] {
            var bytes = clean
            bytes.setInteger(bytes.getInteger(at: offset, as: UInt8.self)! ^ 0x01, at: offset)
            var decoder = CodecTestSupport.decoder(.fromTarget, CodecTestSupport.Digests(header: true, data: true))
            let error = CodecTestSupport.iscsiError { _ = try decoder.decode(buffer: &bytes) }
            #expect(error?.code == .dataDigestMismatch, "\(pdu.opcode) bit flipped at \(offset)")
            #expect(error?.message.contains(pdu.opcode.description) == true)
        }
    }

    // MARK: Direction and opcodes

    @Test func wrongDirectionOpcodeIsUnexpected() throws {
        for pdu in SamplePDUs.fromInitiator {
            var bytes = CodecTestSupport.encode([pdu], with: ISCSIPDUEncoder())
            var decoder = ISCSIPDUDecoder(accepting: .fromTarget, maxDataSegmentLength: 65536)
            let error = CodecTestSupport.iscsiError { _ = try decoder.decode(buffer: &bytes) }
            #expect(error?.code == .unexpectedPDU, "\(pdu.opcode)")
            #expect(error?.message.contains(pdu.opcode.description) == true)
        }
        for pdu in SamplePDUs.fromTarget {
            var bytes = CodecTestSupport.encode([pdu], with: ISCSIPDUEncoder())
            var decoder = ISCSIPDUDecoder(accepting: .fromInitiator, maxDataSegmentLength: 65536)
            #expect(CodecTestSupport.iscsiError { _ = try decoder.decode(buffer: &bytes) }?.code == .unexpectedPDU)
        }
    }

    @Test(arguments: [UInt8(0x07), 0x0F, 0x1C, 0x1E, 0x27, 0x30, 0x3C, 0x3E])
    func unknownOpcodeIsMalformed(opcode: UInt8) throws {
        var bytes = ByteBuffer(repeating: 0, count: 48)
        bytes.setInteger(opcode, at: 0)
        for direction in [ISCSIPDUDecoder.Direction.fromTarget, .fromInitiator] {
            var copy = bytes
            var decoder = ISCSIPDUDecoder(accepting: direction)
            let error = CodecTestSupport.iscsiError { _ = try decoder.decode(buffer: &copy) }
            #expect(error?.code == .malformedPDU)
            #expect(error?.message.contains("unknown opcode") == true)
            #expect(copy.readerIndex == 0, "reader index restored on error")
        }
    }

    // MARK: Garbage

    @Test func randomBytesThrowOrWaitButNeverTrap() {
        var generator = SeededGenerator(seed: 0x15C5_1)
        var outcomes = (pdus: 0, errors: 0, waiting: 0)
        for round in 0..<3000 {
            let count = Int.random(in: 0...400, using: &generator)
            var bytes = ByteBuffer(bytes: generator.bytes(count))
            let digests = CodecTestSupport.allDigests[round % 4]
            var decoder = CodecTestSupport.decoder(round % 8 < 4 ? .fromTarget : .fromInitiator, digests, maxDataSegmentLength: 1024)
            outcomes = Self.drain(&bytes, &decoder, outcomes)
        }
        #expect(outcomes.errors + outcomes.waiting == 3000)
        #expect(outcomes.errors > 0)
    }

    @Test func mutatedValidPDUsThrowOrDecodeButNeverTrap() {
        var generator = SeededGenerator(seed: 0xB17F_11D)
        let corpus: [(ByteBuffer, ISCSIPDUDecoder.Direction)] =
            SamplePDUs.fromTarget.map { (CodecTestSupport.encode([$0], with: ISCSIPDUEncoder()), .fromTarget) }
            + SamplePDUs.fromInitiator.map { (CodecTestSupport.encode([$0], with: ISCSIPDUEncoder()), .fromInitiator) }
        var outcomes = (pdus: 0, errors: 0, waiting: 0)
        for _ in 0..<4000 {
            var (bytes, direction) = corpus.randomElement(using: &generator)!
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let offset = Int.random(in: 0..<min(bytes.readableBytes, 64), using: &generator)
                bytes.setInteger(UInt8.random(in: 0...255, using: &generator), at: offset)
            }
            var decoder = ISCSIPDUDecoder(accepting: direction, maxDataSegmentLength: 65536)
            outcomes = Self.drain(&bytes, &decoder, outcomes)
        }
        #expect(outcomes.pdus > 0 && outcomes.errors > 0)
    }

    /// Decodes until the decoder wants more or throws; anything but an `ISCSIError` fails the test.
    private static func drain(
        _ bytes: inout ByteBuffer,
        _ decoder: inout ISCSIPDUDecoder,
        _ outcomes: (pdus: Int, errors: Int, waiting: Int)
    ) -> (pdus: Int, errors: Int, waiting: Int) {
        var outcomes = outcomes
        do {
            var steps = 0
            while let _ = try decoder.decode(buffer: &bytes) {
                outcomes.pdus += 1
                steps += 1
                // Every PDU consumes at least 48 bytes, so this bounds the loop.
                #expect(steps <= 10)
            }
            outcomes.waiting += 1
        } catch is ISCSIError {
            outcomes.errors += 1
        } catch {
            Issue.record("non-ISCSIError thrown: \(error)")
        }
        return outcomes
    }
}
