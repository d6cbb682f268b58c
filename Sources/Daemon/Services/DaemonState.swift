// What the running daemon knows about itself: its config, its services and when it started.

import Datastore
import Synchronization

/// Shared by the services and the control socket; every access is one short critical section.
public final class DaemonState: Sendable {
    private struct Inner {
        var config: DaemonConfig
        /// The config as the file says, before live changes: what `liveChanges` is relative to.
        var fileConfig: DaemonConfig
        var liveChanges: LiveChangeRecord
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
    /// Recent state changes of every part, for `events.list`.
    public let events = EventLog()
    /// Held by each live change (reload, disks.open, exports.add, ...) so they run one at a time.
    let changes = AsyncSerialLock()

    /// For STATUS lines when something needs the service manager's (and the operator's) eye.
    public let notifier: SystemdNotifier

    /// `config` is what runs: `fileConfig` (the file's, default `config`) with `liveChanges` applied.
    public init(
        config: DaemonConfig, logLevel: LogLevelControl, metrics: DaemonMetrics = DaemonMetrics(),
        notifier: SystemdNotifier = SystemdNotifier(environment: [:]),
        fileConfig: DaemonConfig? = nil, liveChanges: LiveChangeRecord = LiveChangeRecord()
    ) {
        self.inner = Mutex(Inner(config: config, fileConfig: fileConfig ?? config, liveChanges: liveChanges, services: []))
        self.notifier = notifier
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

    /// The config file's own disks and exports, and the live changes made relative to them.
    var liveBase: (fileConfig: DaemonConfig, changes: LiveChangeRecord) {
        inner.withLock { ($0.fileConfig, $0.liveChanges) }
    }

    func setLiveBase(fileConfig: DaemonConfig, changes: LiveChangeRecord) {
        inner.withLock { $0.fileConfig = fileConfig; $0.liveChanges = changes }
    }

    /// Notes in the record how `key` runs now compared with the file, and returns the new record.
    func recordLiveChange(disk key: String) -> LiveChangeRecord {
        inner.withLock { inner in
            inner.liveChanges.recordDisk(key, file: inner.fileConfig.disks.first { $0.reference == key }, live: inner.config.disks.first { $0.reference == key })
            return inner.liveChanges
        }
    }

    func recordLiveChange(export key: String) -> LiveChangeRecord {
        inner.withLock { inner in
            inner.liveChanges.recordExport(key, file: inner.fileConfig.exports.first { $0.name == key }, live: inner.config.exports.first { $0.name == key })
            return inner.liveChanges
        }
    }

    public var uptime: Duration {
        ContinuousClock.now - started
    }

    /// Services in the order they were first reported.
    public var services: [(name: String, state: ServiceState)] {
        inner.withLock { $0.services }
    }

    /// Records a part's state; a change of its state word or reason also goes to the event log.
    public func setService(_ name: String, _ state: ServiceState) {
        let previous = inner.withLock { inner -> ServiceState? in
            if let index = inner.services.firstIndex(where: { $0.name == name }) {
                defer { inner.services[index].state = state }
                return inner.services[index].state
            }
            inner.services.append((name, state))
            return nil
        }
        if previous?.name != state.name || previous?.reason != state.reason {
            events.record(name, state.name, reason: state.reason)
        }
    }

    /// Forgets a service that no longer exists (a disk closed, an export removed).
    func removeService(_ name: String) {
        inner.withLock { $0.services.removeAll { $0.name == name } }
        events.record(name, "removed")
    }

    public func state(of name: String) -> ServiceState? {
        inner.withLock { $0.services.first(where: { $0.name == name })?.state }
    }
}
