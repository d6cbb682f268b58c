// Feeds every prefix of a valid response to a parser: each one the parser
// cannot decode must throw SCSIParseError, and none may trap.

import SCSI
import Testing

enum TruncationCheck {
    /// Every prefix shorter than `requiredLength` (default: the whole response) throws;
    /// every prefix from `requiredLength` up to the whole response parses.
    static func expectPrefixes<T>(
        of bytes: [UInt8],
        requiredLength: Int? = nil,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ parse: ([UInt8]) throws -> T
    ) {
        let required = requiredLength ?? bytes.count
        for length in 0...bytes.count {
            let prefix = Array(bytes.prefix(length))
            if length < required {
                #expect(throws: SCSIParseError.self, "prefix of \(length) bytes", sourceLocation: sourceLocation) {
                    _ = try parse(prefix)
                }
            } else {
                #expect(throws: Never.self, "prefix of \(length) bytes", sourceLocation: sourceLocation) {
                    _ = try parse(prefix)
                }
            }
        }
    }

    /// Random bytes of every length up to `maximumLength` either parse or throw SCSIParseError.
    static func expectNoTrapOnGarbage<T>(
        maximumLength: Int = 80,
        seed: UInt64 = 0x5EED,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ parse: ([UInt8]) throws -> T
    ) {
        var generator = SplitMix64(state: seed)
        for length in 0...maximumLength {
            for _ in 0..<8 {
                let garbage = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                do {
                    _ = try parse(garbage)
                } catch is SCSIParseError {
                    // A clear refusal is the expected outcome for most garbage.
                } catch {
                    Issue.record("unexpected error \(error) for \(garbage)", sourceLocation: sourceLocation)
                }
            }
        }
    }
}

/// A tiny deterministic generator so garbage inputs repeat from run to run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
