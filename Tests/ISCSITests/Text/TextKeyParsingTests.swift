// Text key=value parsing (RFC 7143 §6.1): order, limits, malformed text, and the
// C-bit accumulator and splitter.

import NIOCore
import Testing

@testable import ISCSI

@Suite struct TextKeyParsingTests {
    private func parse(_ buffer: ByteBuffer, limits: TextKeyLimits = .login) throws(ISCSIError) -> [TextKeyValue] {
        var buffer = buffer
        return try buffer.readTextKeyValues(limits: limits)
    }

    @Test func parsesPairsInOrderKeepingDuplicates() throws {
        let pairs = try parse(text("TargetName=a", "TargetAddress=1.2.3.4", "TargetName=b", "TargetAddress=1.2.3.4"))
        #expect(
            pairs == [
                TextKeyValue("TargetName", "a"), TextKeyValue("TargetAddress", "1.2.3.4"),
                TextKeyValue("TargetName", "b"), TextKeyValue("TargetAddress", "1.2.3.4"),
            ]
        )
    }

    @Test func valueMayContainEqualsAndBeEmpty() throws {
        #expect(try parse(text("X-a=b=c", "SendTargets=")) == [TextKeyValue("X-a", "b=c"), TextKeyValue("SendTargets", "")])
    }

    @Test func emptyEntriesAreSkipped() throws {
        var buffer = text("A=1")
        buffer.writeBytes([0, 0])
        #expect(try parse(buffer) == [TextKeyValue("A", "1")])
        #expect(try parse(ByteBuffer()) == [])
    }

    @Test func writingRoundTrips() throws {
        let pairs = [TextKeyValue("HeaderDigest", "CRC32C,None"), TextKeyValue("X#vendor.key", "ünïcode")]
        #expect(try parse(ByteBuffer(textKeyValues: pairs)) == pairs)
    }

    @Test func readerIndexMovesOnlyOnSuccess() {
        var good = text("A=1")
        #expect((try? good.readTextKeyValues(limits: .login)) != nil)
        #expect(good.readableBytes == 0)
        var bad = ByteBuffer(string: "A=1")
        #expect(throws: ISCSIError.self) { try bad.readTextKeyValues(limits: .login) }
        #expect(bad.readableBytes == 3)
    }

    /// Inputs use "|" for a NUL byte and "%" for the invalid UTF-8 byte 0xFF.
    @Test(arguments: [
        ("A=1", "does not end with a NUL"),
        ("NoEquals|", "not of the form key=value"),
        ("=value|", "empty key"),
        ("1Key=v|", "does not start with a letter"),
        ("Bad Key=v|", "contains the byte 0x20"),
        ("Key=%|", "value of key Key is not valid UTF-8"),
    ])
    func malformedTextIsRejected(input: String, fragment: String) {
        let bytes = input.utf8.map { $0 == UInt8(ascii: "|") ? 0 : $0 == UInt8(ascii: "%") ? 0xFF : $0 }
        let error = #expect(throws: ISCSIError.self) { try parse(ByteBuffer(bytes: bytes)) }
        #expect(error?.code == .protocolViolation)
        #expect(error?.scope == .connection)
        #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "")")
    }

    @Test func keyNameLimitIs63Bytes() throws {
        let longest = String(repeating: "K", count: 63)
        #expect(try parse(text("\(longest)=v")) == [TextKeyValue(longest, "v")])
        let error = #expect(throws: ISCSIError.self) { try parse(text("\(longest)K=v")) }
        #expect(error?.message.contains("64 bytes long; at most 63") == true)
    }

    @Test func valueLimitIs255BytesExceptForCHAPBinaries() throws {
        let longest = String(repeating: "v", count: 255)
        #expect(try parse(text("TargetAlias=\(longest)")).first?.value == longest)
        let error = #expect(throws: ISCSIError.self) { try parse(text("TargetAlias=\(longest)v")) }
        #expect(error?.message.contains("TargetAlias is 256 bytes long; at most 255") == true)

        let challenge = "0x" + String(repeating: "ab", count: 1024)
        #expect(try parse(text("CHAP_C=\(challenge)")).first?.value == challenge)
        let tooLong = "0x" + String(repeating: "ab", count: 4097)
        #expect(throws: ISCSIError.self) { try parse(text("CHAP_C=\(tooLong)")) }
        // Long binaries are only allowed where the limits say so.
        #expect(throws: ISCSIError.self) { try parse(text("CHAP_C=\(challenge)"), limits: .exchange) }
    }

    @Test func totalLimitIsEnforcedBeforeParsing() {
        let limits = TextKeyLimits(largeValueKeys: [], maximumTotalLength: 16)
        #expect(throws: Never.self) { try parse(text("A=123456789012"), limits: limits) }
        let error = #expect(throws: ISCSIError.self) { try parse(text("A=12345678901234"), limits: limits) }
        #expect(error?.message.contains("text of 17 bytes exceeds the limit of 16 bytes") == true)
    }

    // MARK: - Accumulator

    @Test func accumulatorJoinsAPairSplitInsideKeyAndValue() throws {
        var accumulator = TextSegmentAccumulator(limits: .login)
        #expect(try accumulator.append(ByteBuffer(string: "MaxBurst"), continues: true) == nil)
        #expect(try accumulator.append(ByteBuffer(string: "Length=26"), continues: true) == nil)
        #expect(accumulator.bufferedByteCount == 17)
        let pairs = try accumulator.append(ByteBuffer(bytes: Array("2144".utf8) + [0] + Array("A=b".utf8) + [0]), continues: false)
        #expect(pairs == [TextKeyValue("MaxBurstLength", "262144"), TextKeyValue("A", "b")])
        #expect(accumulator.bufferedByteCount == 0)
    }

    @Test func accumulatorBoundsTheTotal() throws {
        var accumulator = TextSegmentAccumulator(limits: TextKeyLimits(largeValueKeys: [], maximumTotalLength: 10))
        #expect(try accumulator.append(ByteBuffer(string: "A=12345"), continues: true) == nil)
        let error = #expect(throws: ISCSIError.self) {
            try accumulator.append(ByteBuffer(string: "6789"), continues: true)
        }
        #expect(error?.message.contains("grew to 11 bytes") == true)
        #expect(accumulator.bufferedByteCount == 0)
    }

    @Test func accumulatorRejectsTextThatEndsMidPair() {
        var accumulator = TextSegmentAccumulator(limits: .login)
        #expect(throws: ISCSIError.self) { try accumulator.append(ByteBuffer(string: "A=1"), continues: false) }
    }

    // MARK: - Splitter

    @Test(arguments: [1, 3, 7, 8, 100])
    func splitterCutsToTheLimitAndKeepsEveryByte(limit: Int) {
        let whole = text("InitiatorName=iqn.x", "AuthMethod=None")
        let pieces = TextSegmentSplitter.split(whole, maximumSegmentLength: limit)
        #expect(pieces.allSatisfy { $0.readableBytes <= limit })
        #expect(pieces.dropLast().allSatisfy { $0.readableBytes == limit })
        var joined = ByteBuffer()
        for var piece in pieces { joined.writeBuffer(&piece) }
        #expect(joined == whole)
        #expect(pieces.count == (whole.readableBytes + limit - 1) / limit)
    }

    @Test func splitterKeepsEmptyTextAsOnePiece() {
        #expect(TextSegmentSplitter.split(ByteBuffer(), maximumSegmentLength: 8) == [ByteBuffer()])
    }
}
