// The decoder's streamed data segments: a long payload is copied into a destination as it
// arrives (`Settings.payloadDestination`), and `ReadAssembly.lend` is that destination for reads.

import ISCSI
import NIOCore
import Testing

@Suite struct ISCSIPDUDecoderStreamingTests {
    /// A Data-In of `length` patterned bytes (odd lengths get padding on the wire).
    private func dataIn(length: Int, offset: UInt32 = 0, dataSN: UInt32 = 0, tag: UInt32 = 5) -> ISCSIPDU {
        let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        return .dataIn(DataIn(
            final: true, initiatorTaskTag: tag, expCmdSN: 1, maxCmdSN: 9, dataSN: dataSN,
            bufferOffset: offset, data: ByteBuffer(bytes: bytes)
        ))
    }

    private func settings(_ digests: CodecTestSupport.Digests) -> ISCSIPDUDecoder.Settings {
        ISCSIPDUDecoder.Settings(maxDataSegmentLength: 1 << 20, headerDigest: digests.header, dataDigest: digests.data)
    }

    @Test(arguments: CodecTestSupport.allDigests)
    func longPayloadIsCopiedIntoTheDestinationAsItArrives(digests: CodecTestSupport.Digests) throws {
        let long = dataIn(length: 200_001)
        let next = SamplePDUs.fromTarget[0]
        let wire = CodecTestSupport.encode([long, next], with: CodecTestSupport.encoder(digests))
        let settings = settings(digests)
        var asked: [(ISCSIPDU, Int)] = []
        settings.payloadDestination = { header, length in
            asked.append((header, length))
            var destination = ByteBuffer(bytes: [0xEE, 0xEE, 0xEE])  // bytes of an earlier Data-In
            destination.reserveCapacity(3 + length)
            return destination
        }
        var decoder = ISCSIPDUDecoder(accepting: .fromTarget, settings: settings)

        // Odd-sized pieces: while the payload is incomplete, every call takes all it is given.
        let header = 48 + (digests.header ? 4 : 0)
        var input = ByteBuffer()
        var decoded: [ISCSIPDU] = []
        var offset = 0
        for size in [30, 40, 1, 65_536, 4_095, 100_000, 30_000, 3, 3, 3, 3, Int.max] where offset < wire.readableBytes {
            var piece = wire.getSlice(at: offset, length: min(size, wire.readableBytes - offset))!
            offset += piece.readableBytes
            input.writeBuffer(&piece)
            decoded += try CodecTestSupport.decodeAll(&input, with: &decoder)
            if (header..<header + 200_001).contains(offset) {
                #expect(input.readableBytes == 0, "payload bytes left waiting in the input at \(offset)")
            }
        }
        #expect(offset == wire.readableBytes)
        #expect(decoded == [long, next])
        #expect(asked.count == 1)
        #expect(asked.first?.1 == 200_001)
        #expect(asked.first.map { $0.0.initiatorTaskTag } == 5)
        // The data is the destination itself, read from where the payload starts.
        let first = try #require(decoded.first)
        guard case .dataIn(let received) = first else {
            Issue.record("decoded \(first.opcode), not a Data-In")
            return
        }
        #expect(received.data.readerIndex == 3)
        var whole = received.data
        whole.moveReaderIndex(to: 0)
        #expect(whole.readBytes(length: 3) == [0xEE, 0xEE, 0xEE])
    }

    @Test func withoutADestinationTheDecoderUsesABufferOfItsOwn() throws {
        let long = dataIn(length: ISCSIPDUDecoder.streamingLength)
        let settings = settings(CodecTestSupport.Digests(header: false, data: true))
        settings.payloadDestination = { _, _ in nil }
        var decoder = ISCSIPDUDecoder(accepting: .fromTarget, settings: settings)
        var wire = CodecTestSupport.encode([long], with: ISCSIPDUEncoder(dataDigest: true))
        var first = wire.readSlice(length: 1000)!
        #expect(try decoder.decode(buffer: &first) == nil)
        #expect(first.readableBytes == 0)
        #expect(try decoder.decode(buffer: &wire) == long)
    }

    @Test func shortSegmentsAreSlicesAndNeverAskForADestination() throws {
        let short = dataIn(length: ISCSIPDUDecoder.streamingLength - 1)
        let settings = settings(CodecTestSupport.Digests(header: false, data: false))
        var asked = 0
        settings.payloadDestination = { _, _ in
            asked += 1
            return nil
        }
        var decoder = ISCSIPDUDecoder(accepting: .fromTarget, settings: settings)
        var wire = CodecTestSupport.encode([short], with: ISCSIPDUEncoder())
        var first = wire.readSlice(length: 1000)!
        #expect(try decoder.decode(buffer: &first) == nil)
        #expect(first.readableBytes == 1000 - 48, "a slice waits for the whole segment in the input")
        first.writeBuffer(&wire)
        #expect(try decoder.decode(buffer: &first) == short)
        #expect(asked == 0)
    }

    @Test func aCorruptedStreamedPayloadFailsItsDataDigest() throws {
        let long = dataIn(length: 100_002)
        let settings = settings(CodecTestSupport.Digests(header: true, data: true))
        settings.payloadDestination = { _, _ in nil }
        var decoder = ISCSIPDUDecoder(accepting: .fromTarget, settings: settings)
        var wire = CodecTestSupport.encode([long], with: ISCSIPDUEncoder(headerDigest: true, dataDigest: true))
        wire.setInteger(wire.getInteger(at: 70_000, as: UInt8.self)! ^ 1, at: 70_000)
        var first = wire.readSlice(length: 60_000)!
        #expect(try decoder.decode(buffer: &first) == nil)
        let error = CodecTestSupport.iscsiError { _ = try decoder.decode(buffer: &wire) }
        #expect(error?.code == .dataDigestMismatch)
        #expect(error?.message.contains("over 100004 bytes") == true)
    }

    @Test func endOfStreamInsideAStreamedPayloadSaysHowFarItGot() throws {
        let long = dataIn(length: 100_000)
        let settings = settings(CodecTestSupport.Digests(header: false, data: false))
        settings.payloadDestination = { _, _ in nil }
        var decoder = ISCSIPDUDecoder(accepting: .fromTarget, settings: settings)
        var wire = CodecTestSupport.encode([long], with: ISCSIPDUEncoder())
        var first = wire.readSlice(length: 30_000)!
        #expect(try decoder.decode(buffer: &first) == nil)
        var second = wire.readSlice(length: 20_000)!
        let error = CodecTestSupport.iscsiError { _ = try decoder.decodeLast(buffer: &second, seenEOF: true) }
        #expect(error?.code == .connectionClosed)
        #expect(error?.message.contains("(50000 of 100048 bytes)") == true)
    }

    // MARK: ReadAssembly as the destination

    @Test func readAssemblyLendsItsBufferForTheNextPieceOnly() throws {
        let allocator = ByteBufferAllocator()
        var read = ReadAssembly(expectedLength: 300_000)
        #expect(read.lend(offset: 4, length: 10, allocator: allocator) == nil, "not where the read continues")
        #expect(read.lend(offset: 0, length: 300_001, allocator: allocator) == nil, "past the read's end")
        try read.append(DataIn(final: false, initiatorTaskTag: 5, expCmdSN: 1, maxCmdSN: 9, dataSN: 0, bufferOffset: 0, data: ByteBuffer(bytes: [1, 2, 3, 4])), allocator: allocator)

        // The decoder appends the rest to the lent buffer and hands it back as the Data-In's data.
        let rest = dataIn(length: 299_996, offset: 4, dataSN: 1)
        let settings = settings(CodecTestSupport.Digests(header: false, data: false))
        settings.payloadDestination = { _, length in read.lend(offset: 4, length: length, allocator: allocator) }
        var decoder = ISCSIPDUDecoder(accepting: .fromTarget, settings: settings)
        var wire = CodecTestSupport.encode([rest], with: ISCSIPDUEncoder())
        let decoded = try #require(try decoder.decode(buffer: &wire))
        guard case .dataIn(let piece) = decoded else {
            Issue.record("decoded \(decoded.opcode), not a Data-In")
            return
        }
        #expect(read.lend(offset: 4, length: 1, allocator: allocator) == nil, "already lent")
        try read.append(piece, allocator: allocator)
        #expect(read.receivedBytes == 300_000)
        let result = read.finish(length: 300_000)
        #expect(result.readableBytes == 300_000)
        #expect(result.getBytes(at: result.readerIndex, length: 4) == [1, 2, 3, 4])
        #expect(result.getSlice(at: result.readerIndex + 4, length: 299_996) == rest.dataSegment)
    }
}
