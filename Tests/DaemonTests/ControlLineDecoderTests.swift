// Request framing: lines split anywhere, oversized lines refused once without buffering them.

import Control
import Daemon
import NIOCore
import NIOTestUtils
import Testing

@Suite struct ControlLineDecoderTests {
    @Test func framesSurviveAnySplit() throws {
        let input = ByteBuffer(string: "{\"a\":1}\n{\"b\":2}\r\n\n")
        let expected: [ControlLineDecoder.Frame] = [.line(Array("{\"a\":1}".utf8)), .line(Array("{\"b\":2}".utf8)), .line([])]
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(input, expected)],
            decoderFactory: { ControlLineDecoder() }
        )
    }

    @Test func oversizedLineIsReportedOnceAndSkipped() throws {
        var decoder = ControlLineDecoder(maximumLineLength: 8)
        var buffer = ByteBuffer(string: "0123456789abcdef")
        #expect(try decoder.decode(buffer: &buffer) == .tooLarge)
        #expect(buffer.readableBytes == 0)
        buffer.writeString("more-of-the-same-line")
        #expect(try decoder.decode(buffer: &buffer) == nil)
        buffer.writeString("tail\nok\n")
        #expect(try decoder.decode(buffer: &buffer) == .line(Array("ok".utf8)))
    }

    @Test func oversizedLineWithItsNewlineInOneBuffer() throws {
        var decoder = ControlLineDecoder(maximumLineLength: 4)
        var buffer = ByteBuffer(string: "toolong\nfine\n")
        #expect(try decoder.decode(buffer: &buffer) == .tooLarge)
        #expect(try decoder.decode(buffer: &buffer) == .line(Array("fine".utf8)))
    }

    @Test func lastLineWithoutNewlineIsDelivered() throws {
        var decoder = ControlLineDecoder()
        var buffer = ByteBuffer(string: "{}")
        #expect(try decoder.decode(buffer: &buffer) == nil)
        #expect(try decoder.decodeLast(buffer: &buffer, seenEOF: true) == .line(Array("{}".utf8)))
    }
}
