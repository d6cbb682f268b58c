// Sizes on the command line: plain bytes or with a binary/decimal unit (4k, 1MiB, 10G, 1TiB).

import ArgumentParser

/// A byte count parsed from text like `512`, `4k`, `4KiB`, `1M`, `1MiB`, `2G`, `1T`.
///
/// K/M/G/T and KiB/MiB/GiB/TiB are both powers of 1024, as storage tools use them;
/// KB/MB/GB/TB are powers of 1000.
public struct ByteCount: Sendable, Hashable, ExpressibleByArgument, CustomStringConvertible {
    public var bytes: UInt64

    public init(bytes: UInt64) { self.bytes = bytes }

    public init?(argument: String) {
        guard let value = try? ByteCount(parsing: argument) else { return nil }
        self = value
    }

    public init(parsing text: String) throws(ValidationError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isNumber }
        let unit = trimmed.dropFirst(digits.count).lowercased()
        guard let number = UInt64(digits) else {
            throw ValidationError("'\(text)' is not a size: expected a number with an optional unit such as 4k, 1MiB or 10G")
        }
        let multiplier: UInt64
        switch unit {
        case "", "b": multiplier = 1
        case "k", "kib": multiplier = 1 << 10
        case "m", "mib": multiplier = 1 << 20
        case "g", "gib": multiplier = 1 << 30
        case "t", "tib": multiplier = 1 << 40
        case "kb": multiplier = 1_000
        case "mb": multiplier = 1_000_000
        case "gb": multiplier = 1_000_000_000
        case "tb": multiplier = 1_000_000_000_000
        default:
            throw ValidationError("'\(text)' has an unknown unit '\(unit)': use k, M, G, T (powers of 1024) or KB, MB, GB, TB")
        }
        let (product, overflow) = number.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw ValidationError("'\(text)' is too large") }
        bytes = product
    }

    public var description: String {
        for (shift, unit) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] where bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift) \(unit)"
        }
        return "\(bytes) bytes"
    }
}
