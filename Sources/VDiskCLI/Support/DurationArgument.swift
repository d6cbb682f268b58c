// Time spans on the command line (heartbeat interval, lease, lock wait): 500ms, 3s, 2m.

import ArgumentParser

/// A duration parsed from a number with a unit: `ms`, `s` (the default) or `m`.
struct DurationArgument: Sendable, Hashable, ExpressibleByArgument, CustomStringConvertible {
    var duration: Duration

    init(_ duration: Duration) { self.duration = duration }

    init?(argument: String) {
        let digits = argument.prefix { ($0 >= "0" && $0 <= "9") || $0 == "." }
        guard let value = Double(digits), value >= 0, value < 1e9 else { return nil }
        switch argument.dropFirst(digits.count).lowercased() {
        case "ms": duration = .milliseconds(Int64(value))
        case "", "s": duration = .milliseconds(Int64(value * 1000))
        case "m", "min": duration = .milliseconds(Int64(value * 60_000))
        default: return nil
        }
    }

    var description: String { "\(duration)" }
}
