// The I/O statistics of every disk the daemon serves, keyed by "datastore/disk".

import Synchronization
import VSCSI

/// Hands each disk one `IOStatistics` (made on first use) whose samples also feed the metrics.
/// Whoever builds a disk's logical unit passes `statistics(for:)` to it.
public final class DiskStatisticsRegistry: Sendable {
    private let entries = Mutex<[String: IOStatistics]>([:])
    private let metrics: DaemonMetrics
    private let interval: Duration

    /// - Parameter interval: the rate interval of each disk's statistics.
    public init(metrics: DaemonMetrics, interval: Duration = .seconds(10)) {
        self.metrics = metrics
        self.interval = interval
    }

    /// The statistics of `reference` ("datastore/disk"), made on first use.
    public func statistics(for reference: String) -> IOStatistics {
        if let existing = entries.withLock({ $0[reference] }) { return existing }
        // Made outside the lock: the observer registers metrics, which takes the registry's lock.
        let made = IOStatistics(interval: interval, observer: metrics.diskObserver(disk: reference))
        return entries.withLock { entries in
            if let existing = entries[reference] { return existing }
            entries[reference] = made
            return made
        }
    }

    /// The references that have statistics, sorted.
    public var references: [String] {
        entries.withLock { $0.keys.sorted() }
    }
}
