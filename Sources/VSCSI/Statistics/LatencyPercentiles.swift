// Latency percentiles read off a histogram of microseconds.

import Histogram

/// p50/p90/p99/p99.9 and the maximum of the latencies recorded so far, in microseconds.
///
/// Values come from an HdrHistogram with three significant digits: below 2048 µs they
/// are exact, above it within 0.1 %. A percentile is the smallest recorded value that
/// at least that share of all recorded values is less than or equal to.
public struct LatencyPercentiles: Sendable, Hashable {
    public var p50Microseconds: UInt64
    public var p90Microseconds: UInt64
    public var p99Microseconds: UInt64
    public var p999Microseconds: UInt64
    public var maxMicroseconds: UInt64

    public init(p50Microseconds: UInt64, p90Microseconds: UInt64, p99Microseconds: UInt64, p999Microseconds: UInt64, maxMicroseconds: UInt64) {
        self.p50Microseconds = p50Microseconds
        self.p90Microseconds = p90Microseconds
        self.p99Microseconds = p99Microseconds
        self.p999Microseconds = p999Microseconds
        self.maxMicroseconds = maxMicroseconds
    }

    /// Nil when nothing was recorded.
    init?(_ histogram: Histogram<UInt64>) {
        guard histogram.totalCount > 0 else { return nil }
        self.init(
            p50Microseconds: histogram.valueAtPercentile(50),
            p90Microseconds: histogram.valueAtPercentile(90),
            p99Microseconds: histogram.valueAtPercentile(99),
            p999Microseconds: histogram.valueAtPercentile(99.9),
            maxMicroseconds: histogram.maxRecorded
        )
    }
}
