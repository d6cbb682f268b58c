// A consistent copy of one unit's statistics at one moment.

/// What `IOStatistics.snapshot()` returns: totals, rates and latencies per class.
public struct IOStatisticsSnapshot: Sendable, Hashable {
    /// One class of command.
    public struct Entry: Sendable, Hashable {
        public var totals: IOCounts
        /// Over the whole time since the statistics started.
        public var sinceStart: IORate
        /// Over the last complete interval; nil until the first interval has ended.
        public var lastInterval: IORate?
        /// Nil when no command of this class ran.
        public var latency: LatencyPercentiles?
    }

    /// Time since the statistics started.
    public var elapsed: Duration
    /// The length of one interval.
    public var interval: Duration
    public var entries: [IOKind: Entry]

    public subscript(kind: IOKind) -> Entry {
        entries[kind] ?? Entry(totals: IOCounts(), sinceStart: IORate(operationsPerSecond: 0, bytesPerSecond: 0), lastInterval: nil, latency: nil)
    }
}
