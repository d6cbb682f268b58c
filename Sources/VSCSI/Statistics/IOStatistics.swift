// Per-unit I/O statistics: operations, bytes, errors and latency for reads, writes and the rest.

import Histogram
import NIOConcurrencyHelpers

/// Counts what a logical unit does, for `vdiskctl disks stats` and the metrics.
///
/// One lock guards everything and is held only to add a sample or to copy the state.
/// Time is split into fixed intervals counted from the start; a snapshot gives rates
/// since the start and over the last complete interval. `observer`, when set, sees
/// every sample after it is counted (the daemon forwards them to its metrics).
public final class IOStatistics: Sendable {
    /// One recorded command, as the observer sees it.
    public struct Sample: Sendable, Hashable {
        public var kind: IOKind
        public var bytes: Int
        public var latency: Duration
        public var succeeded: Bool
    }

    /// Latencies above this are recorded as this (one minute).
    public static let highestTrackableMicroseconds: UInt64 = 60_000_000

    private struct Inner {
        var totals: [IOKind: IOCounts] = [:]
        var latencies: [IOKind: Histogram<UInt64>] = [:]
        var window: Int64 = 0
        var windowBase: [IOKind: IOCounts] = [:]
        var lastWindow: [IOKind: IOCounts]?
    }

    private let inner = NIOLockedValueBox(Inner())
    private let clock: @Sendable () -> Duration
    private let intervalNanoseconds: Int64
    private let observer: (@Sendable (Sample) -> Void)?

    /// - Parameters:
    ///   - interval: the length of one rate interval.
    ///   - clock: time since any fixed origin; the first reading is the start (tests pass their own).
    ///   - observer: sees each sample after it has been counted.
    public init(
        interval: Duration = .seconds(10),
        clock: (@Sendable () -> Duration)? = nil,
        observer: (@Sendable (Sample) -> Void)? = nil
    ) {
        precondition(interval > .zero, "the statistics interval must be positive")
        let monotonic = ContinuousClock()
        let origin = monotonic.now
        let source = clock ?? { monotonic.now - origin }
        let start = source()
        self.clock = { source() - start }
        self.intervalNanoseconds = Self.nanoseconds(interval)
        self.observer = observer
    }

    /// Counts one command. `bytes` is counted only when it succeeded.
    public func record(_ kind: IOKind, bytes: Int, latency: Duration, succeeded: Bool) {
        let now = clock()
        let microseconds = UInt64(max(0, Self.nanoseconds(latency) / 1000))
        inner.withLockedValue { inner in
            advance(&inner, to: now)
            var counts = inner.totals[kind] ?? IOCounts()
            counts.operations += 1
            if succeeded { counts.bytes += UInt64(max(0, bytes)) } else { counts.errors += 1 }
            inner.totals[kind] = counts
            var histogram = inner.latencies[kind] ?? Histogram<UInt64>(highestTrackableValue: Self.highestTrackableMicroseconds)
            _ = histogram.record(min(microseconds, Self.highestTrackableMicroseconds))
            inner.latencies[kind] = histogram
        }
        observer?(Sample(kind: kind, bytes: bytes, latency: latency, succeeded: succeeded))
    }

    /// Totals, rates and latency percentiles as of now.
    public func snapshot() -> IOStatisticsSnapshot {
        let now = clock()
        let interval = Duration.nanoseconds(intervalNanoseconds)
        return inner.withLockedValue { inner in
            advance(&inner, to: now)
            var entries: [IOKind: IOStatisticsSnapshot.Entry] = [:]
            for kind in IOKind.allCases {
                let totals = inner.totals[kind] ?? IOCounts()
                entries[kind] = IOStatisticsSnapshot.Entry(
                    totals: totals,
                    sinceStart: totals.rate(over: now),
                    lastInterval: inner.lastWindow.map { ($0[kind] ?? IOCounts()).rate(over: interval) },
                    latency: inner.latencies[kind].flatMap { LatencyPercentiles($0) }
                )
            }
            return IOStatisticsSnapshot(elapsed: now, interval: interval, entries: entries)
        }
    }

    /// Closes the intervals that ended before `now`. Everything counted so far happened in
    /// the current window, so when exactly one window ended it holds all of that; when more
    /// ended, the last complete one saw nothing.
    private func advance(_ inner: inout Inner, to now: Duration) {
        let window = Self.nanoseconds(now) / intervalNanoseconds
        guard window > inner.window else { return }
        if window == inner.window + 1 {
            var delta: [IOKind: IOCounts] = [:]
            for (kind, counts) in inner.totals {
                delta[kind] = counts.subtracting(inner.windowBase[kind] ?? IOCounts())
            }
            inner.lastWindow = delta
        } else {
            inner.lastWindow = [:]
        }
        inner.windowBase = inner.totals
        inner.window = window
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
