// What `target bench --verify` counted: I/Os, errors, miscompares (with the first few
// messages of each), the latency distribution and the longest single I/O.

import Foundation
import Histogram

/// The counts of one verify worker, or of all of them merged.
struct VerifyTally {
    /// How many messages of each kind are kept; the counts go on.
    static let keptMessages = 5

    var reads = 0
    var writes = 0
    var errors = 0
    var miscompares = 0
    /// Slots read back and checked after the load ended.
    var finalChecks = 0
    /// The first errors and miscompares, with when they happened, so merged tallies keep the earliest.
    var errorMessages: [(at: ContinuousClock.Instant, text: String)] = []
    var miscompareMessages: [(at: ContinuousClock.Instant, text: String)] = []
    /// Every I/O's latency, failed ones included, in nanoseconds.
    var latency = Histogram<UInt64>(highestTrackableValue: 600_000_000_000)
    var longest: Duration = .zero

    var ios: Int { reads + writes }

    mutating func record(_ took: Duration) {
        let nanoseconds = took.components.seconds * 1_000_000_000 + took.components.attoseconds / 1_000_000_000
        _ = latency.record(UInt64(max(1, min(nanoseconds, 600_000_000_000))))
        longest = max(longest, took)
    }

    mutating func error(_ text: String, at instant: ContinuousClock.Instant) {
        errors += 1
        if errorMessages.count < Self.keptMessages { errorMessages.append((instant, text)) }
    }

    mutating func miscompare(_ text: String, at instant: ContinuousClock.Instant) {
        miscompares += 1
        if miscompareMessages.count < Self.keptMessages { miscompareMessages.append((instant, text)) }
    }

    mutating func add(_ other: VerifyTally) {
        reads += other.reads
        writes += other.writes
        errors += other.errors
        miscompares += other.miscompares
        finalChecks += other.finalChecks
        errorMessages = Array((errorMessages + other.errorMessages).sorted { $0.at < $1.at }.prefix(Self.keptMessages))
        miscompareMessages = Array((miscompareMessages + other.miscompareMessages).sorted { $0.at < $1.at }.prefix(Self.keptMessages))
        latency.add(other.latency)
        longest = max(longest, other.longest)
    }

    var failed: Bool { errors > 0 || miscompares > 0 }

    private func microseconds(_ percentile: Double) -> Double {
        Double(latency.valueAtPercentile(percentile)) / 1000
    }

    private var longestMilliseconds: Double {
        Double(longest.components.seconds) * 1000 + Double(longest.components.attoseconds) / 1e15
    }

    /// The report `--json` prints.
    func json(ioSize: Int, queueDepth: Int, seconds: Double) -> [String: Any] {
        [
            "pattern": "verify",
            "blockSize": ioSize,
            "queueDepth": queueDepth,
            "seconds": seconds,
            "ios": ios,
            "reads": reads,
            "writes": writes,
            "iops": seconds > 0 ? Double(ios) / seconds : 0,
            "errors": errors,
            "errorMessages": errorMessages.map(\.text),
            "miscompares": miscompares,
            "miscompareMessages": miscompareMessages.map(\.text),
            "finalChecks": finalChecks,
            "longestStallMilliseconds": longestMilliseconds,
            "latencyMicroseconds": ["p50": microseconds(50), "p99": microseconds(99), "max": Double(latency.max) / 1000],
        ]
    }

    /// The report without `--json`.
    func text(seconds: Double) -> String {
        var lines = [
            String(format: "%d I/Os (%d reads, %d writes) over %.1f s; %d slots read back at the end", ios, reads, writes, seconds, finalChecks),
            String(format: "latency p50 %.0f µs, p99 %.0f µs; longest stall %.1f ms", microseconds(50), microseconds(99), longestMilliseconds),
            "\(errors) errors, \(miscompares) miscompares",
        ]
        lines += errorMessages.map { "error: \($0.text)" }
        lines += miscompareMessages.map { "miscompare: \($0.text)" }
        return lines.joined(separator: "\n")
    }
}
