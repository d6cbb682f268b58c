// A libFuzzer entry point for the text-key code (RFC 7143 §6): parser, C-bit
// accumulator, value grammar, TargetAddress and SendTargets parsing. None may trap.

import NIOCore

/// Runs every text parser on arbitrary bytes; errors are expected, traps are bugs.
@_spi(Fuzzing) public enum TextKeyFuzzing {
    public static func exercise(_ bytes: UnsafeRawBufferPointer) {
        let buffer = ByteBuffer(bytes: bytes)

        for limits in [TextKeyLimits.login, TextKeyLimits.exchange] {
            var copy = buffer
            if let pairs = try? copy.readTextKeyValues(limits: limits) {
                exercise(pairs)
            }
        }

        // The first byte picks a split width, so the fuzzer can steer segment
        // boundaries into keys, values and NULs.
        let width = Int(bytes.first ?? 1) % 64 + 1
        var accumulator = TextSegmentAccumulator(limits: .exchange)
        var remaining = buffer
        while remaining.readableBytes > 0 {
            let piece = remaining.readSlice(length: min(width, remaining.readableBytes))!
            let last = remaining.readableBytes == 0
            if let pairs = try? accumulator.append(piece, continues: !last) {
                exercise(pairs)
            }
        }

        // The splitter must hand back exactly the bytes it was given.
        let pieces = TextSegmentSplitter.split(buffer, maximumSegmentLength: width)
        var joined = ByteBuffer()
        for var piece in pieces { joined.writeBuffer(&piece) }
        precondition(joined == buffer, "TextSegmentSplitter lost or reordered bytes")
    }

    private static func exercise(_ pairs: [TextKeyValue]) {
        _ = try? SendTargetsParser.parse(pairs)
        for pair in pairs {
            _ = TextValue.special(pair.value)
            _ = TextValue.number(pair.value)
            _ = TextValue.binary(pair.value)
            _ = TextValue.boolean(pair.value)
            _ = TextValue.list(pair.value)
            _ = TextValue.range(pair.value)
            _ = try? TargetPortal(parsing: pair.value)
            if let bytes = TextValue.binary(pair.value) {
                precondition(TextValue.binary(TextValue.hex(bytes)) == bytes, "hex round trip failed")
                precondition(TextValue.binary(TextValue.base64(bytes)) == bytes, "base64 round trip failed")
            }
        }
        var negotiation = OperationalNegotiation(proposal: OperationalProposal(), sessionType: .normal, target: "fuzz")
        _ = negotiation.offers()
        if (try? negotiation.receive(pairs)) != nil {
            _ = try? negotiation.result()
        }
    }
}
