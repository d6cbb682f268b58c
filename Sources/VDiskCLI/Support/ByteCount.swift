<<<<<<< HEAD
// Sizes on the command line: plain bytes or with a binary/decimal unit (4k, 1MiB, 10G, 1TiB).

import ArgumentParser

/// A byte count parsed from text like `512`, `4k`, `4KiB`, `1M`, `1MiB`, `2G`, `1T`.
///
/// K/M/G/T and KiB/MiB/GiB/TiB are both powers of 1024, as storage tools use them;
/// KB/MB/GB/TB are powers of 1000.
=======
// Sizes and offsets on the command line: plain bytes, or a number with a unit (4k, 1MiB, 10G, 1T).

import ArgumentParser

/// A byte count parsed from `512`, `4k`, `64KiB`, `1M`, `10G`, `1T`, `2TB`.
///
/// Single letters and the IEC forms (K, M, G, T, KiB … TiB) are powers of 1024, as disk
/// tools use them; KB, MB, GB and TB are powers of 1000. Case does not matter.
>>>>>>> datastore
public struct ByteCount: Sendable, Hashable, ExpressibleByArgument, CustomStringConvertible {
    public var bytes: UInt64

    public init(bytes: UInt64) { self.bytes = bytes }

    public init?(argument: String) {
<<<<<<< HEAD
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
=======
        guard let parsed = try? ByteCount(parsing: argument) else { return nil }
        self = parsed
    }

    public init(parsing text: String) throws(ValidationError) {
        let digits = text.prefix { $0 >= "0" && $0 <= "9" }
        let unit = String(text.dropFirst(digits.count)).lowercased()
        guard !digits.isEmpty, let number = UInt64(digits) else {
            throw ValidationError("'\(text)' is not a size: give a whole number with an optional unit, such as 4k, 1MiB or 10G")
        }
        let scale: UInt64
        switch unit {
        case "", "b": scale = 1
        case "k", "kib": scale = 1 << 10
        case "m", "mib": scale = 1 << 20
        case "g", "gib": scale = 1 << 30
        case "t", "tib": scale = 1 << 40
        case "kb": scale = 1_000
        case "mb": scale = 1_000_000
        case "gb": scale = 1_000_000_000
        case "tb": scale = 1_000_000_000_000
        default:
            throw ValidationError("size '\(text)' has an unknown unit '\(unit)': use k, M, G, T (powers of 1024) or KB, MB, GB, TB")
        }
        let (product, overflow) = number.multipliedReportingOverflow(by: scale)
        guard !overflow else {
            throw ValidationError("size '\(text)' does not fit in 64 bits")
        }
        bytes = product
    }

    /// The largest binary unit that divides the count exactly, so sizes read back as typed.
    public var description: String {
        let units: [(UInt64, String)] = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (scale, name) in units where bytes >= scale && bytes % scale == 0 {
            return "\(bytes / scale) \(name)"
>>>>>>> datastore
        }
        return "\(bytes) bytes"
    }
}
