// What the running daemon knows about itself: its config, its services and when it started.

import Datastore
import Synchronization

/// Shared by the services and the control socket; every access is one short critical section.
public final class DaemonState: Sendable {
    private struct Inner {
        var config: DaemonConfig
        var services: [(name: String, state: ServiceState)]
    }

    private let inner: Mutex<Inner>
    private let started = ContinuousClock.now
    public let logLevel: LogLevelControl
    /// The Prometheus registry every metric goes to.
    public let metrics: DaemonMetrics
    /// Per-disk I/O statistics, keyed by "datastore/disk".
    public let diskStatistics: DiskStatisticsRegistry
    /// What the storage service has open.
    public let storage = OpenedStorage()
    /// The exports being served.
    public let exports = RunningExports()
    /// Held by each live change (reload, disks.open, exports.add, ...) so they run one at a time.
    let changes = AsyncSerialLock()

    public init(config: DaemonConfig, logLevel: LogLevelControl, metrics: DaemonMetrics = DaemonMetrics()) {
        self.inner = Mutex(Inner(config: config, services: []))
        self.logLevel = logLevel
        self.metrics = metrics
        self.diskStatistics = DiskStatisticsRegistry(metrics: metrics)
    }

    public var config: DaemonConfig {
        inner.withLock { $0.config }
    }

    public func replaceConfig(_ config: DaemonConfig) {
        inner.withLock { $0.config = config }
    }

    /// Changes the running config in one critical section.
    func updateConfig(_ body: (inout DaemonConfig) -> Void) {
        inner.withLock { body(&$0.config) }
    }

    public var uptime: Duration {
        ContinuousClock.now - started
    }

    /// Services in the order they were first reported.
    public var services: [(name: String, state: ServiceState)] {
        inner.withLock { $0.services }
    }

    public func setService(_ name: String, _ state: ServiceState) {
        inner.withLock { inner in
            if let index = inner.services.firstIndex(where: { $0.name == name }) {
                inner.services[index].state = state
            } else {
                inner.services.append((name, state))
            }
        }
    }

    /// Forgets a service that no longer exists (a disk closed, an export removed).
    func removeService(_ name: String) {
        inner.withLock { $0.services.removeAll { $0.name == name } }
    }

    public func state(of name: String) -> ServiceState? {
        inner.withLock { $0.services.first(where: { $0.name == name })?.state }
    }
}
