// The daemon's metrics: one Prometheus registry, and the swift-metrics instruments recorded into it.

import Metrics
import Prometheus
import VSCSI

/// Every metric vdiskd exports, made through one `PrometheusMetricsFactory` so `exposition()`
/// sees them all. `vdiskd` also bootstraps the global `MetricsSystem` with `factory`, so
/// libraries that report through swift-metrics land in the same registry.
///
/// Names: `vdiskd_disk_operations_total`, `vdiskd_disk_bytes_total`, `vdiskd_disk_errors_total`
/// and `vdiskd_disk_latency_seconds` (dimensions `disk`, `kind`); `vdiskd_initiator_commands_total`
/// and `vdiskd_initiator_errors_total` (`target`); `vdiskd_datastore_heartbeat_renewals_total` and
/// `vdiskd_datastore_heartbeat_failures_total`, `vdiskd_datastore_fenced` (1 while fenced) and
/// `vdiskd_datastore_reregistrations_total`, `vdiskd_datastore_space_low` and
/// `vdiskd_datastore_free_bytes` (`datastore`); `vdiskd_export_sessions` (`export`);
/// `vdiskd_export_refusals` (`export`, `limit`);
/// `vdiskd_control_requests_total` (`method`); per path of a multipath target (`target`, `path`):
/// `vdiskd_path_up`, `vdiskd_path_commands`, `vdiskd_path_bytes`, `vdiskd_path_errors`,
/// `vdiskd_path_failures`, `vdiskd_path_latency_mean_seconds`, `vdiskd_path_latency_max_seconds`.
public final class DaemonMetrics: Sendable {
    /// Histogram buckets for I/O latency, 50 µs to 10 s.
    public static let latencyBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2), .seconds(5), .seconds(10),
    ]

    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.latencyBuckets
        self.factory = factory
    }

    /// The text exposition format (version 0.0.4) of every metric so far.
    public func exposition() -> String {
        registry.emitToString()
    }

    func counter(_ label: String, _ dimensions: [(String, String)]) -> CoreMetrics.Counter {
        CoreMetrics.Counter(label: label, dimensions: dimensions, factory: factory)
    }

    /// One control request; unknown method names are counted together, so a client cannot
    /// grow the label set without bound.
    func controlRequest(method: String, known: Bool) {
        counter("vdiskd_control_requests_total", [("method", known ? method : "unknown")]).increment()
    }

    /// The gauge of open sessions on one export.
    public func exportSessions(export: String) -> CoreMetrics.Gauge {
        CoreMetrics.Gauge(label: "vdiskd_export_sessions", dimensions: [("export", export)], factory: factory)
    }

    /// Connections or logins one export turned away at one admission limit since it started
    /// (`limit`: pending_logins, pending_logins_per_source, descriptor_reserve,
    /// sessions_per_initiator). A gauge: an export restarted by a reload starts again at 0.
    public func exportRefusals(export: String, limit: String) -> CoreMetrics.Gauge {
        CoreMetrics.Gauge(label: "vdiskd_export_refusals", dimensions: [("export", export), ("limit", limit)], factory: factory)
    }

    /// A gauge of one path of a multipath target, set from the path's counters at each scrape:
    /// `vdiskd_path_up` (1 while active), `vdiskd_path_commands` (`kind` read/write/other),
    /// `vdiskd_path_bytes` (`direction` read/write), `vdiskd_path_errors`, `vdiskd_path_failures`,
    /// `vdiskd_path_latency_mean_seconds`, `vdiskd_path_latency_max_seconds`.
    public func path(_ name: String, target: String, path: String, _ extra: [(String, String)] = []) -> CoreMetrics.Gauge {
        CoreMetrics.Gauge(label: name, dimensions: [("target", target), ("path", path)] + extra, factory: factory)
    }

    /// Counts one heartbeat renewal of `datastore`.
    public func heartbeatRenewal(datastore: String, succeeded: Bool) {
        let label = succeeded ? "vdiskd_datastore_heartbeat_renewals_total" : "vdiskd_datastore_heartbeat_failures_total"
        counter(label, [("datastore", datastore)]).increment()
    }

    /// Whether `datastore` is fenced (1) or not (0).
    public func datastoreFenced(datastore: String, _ fenced: Bool) {
        CoreMetrics.Gauge(label: "vdiskd_datastore_fenced", dimensions: [("datastore", datastore)], factory: factory).record(fenced ? 1 : 0)
    }

    /// Whether `datastore`'s used space is at or past its soft threshold (1) or not (0).
    public func datastoreSpaceLow(datastore: String, _ low: Bool) {
        CoreMetrics.Gauge(label: "vdiskd_datastore_space_low", dimensions: [("datastore", datastore)], factory: factory).record(low ? 1 : 0)
    }

    /// The free data bytes of `datastore`, as its mount last saw them.
    public func datastoreFreeBytes(datastore: String, _ bytes: UInt64) {
        CoreMetrics.Gauge(label: "vdiskd_datastore_free_bytes", dimensions: [("datastore", datastore)], factory: factory).record(Int64(clamping: bytes))
    }

    /// Counts one registration of a reservation key the target had lost.
    public func reservationKeyRegisteredAgain(datastore: String) {
        counter("vdiskd_datastore_reregistrations_total", [("datastore", datastore)]).increment()
    }

    /// Counts one reconnection of `target`'s session after a lost connection.
    public func targetReconnected(target: String) {
        counter("vdiskd_target_reconnects_total", [("target", target)]).increment()
    }

    /// Forwards one disk's samples to its counters and latency histogram.
    func diskObserver(disk: String) -> @Sendable (IOStatistics.Sample) -> Void {
        var instruments: [IOKind: DiskInstruments] = [:]
        for kind in IOKind.allCases {
            let dimensions = [("disk", disk), ("kind", kind.rawValue)]
            instruments[kind] = DiskInstruments(
                operations: counter("vdiskd_disk_operations_total", dimensions),
                bytes: counter("vdiskd_disk_bytes_total", dimensions),
                errors: counter("vdiskd_disk_errors_total", dimensions),
                latency: CoreMetrics.Timer(label: "vdiskd_disk_latency_seconds", dimensions: dimensions, factory: factory)
            )
        }
        let byKind = instruments
        return { sample in
            guard let instruments = byKind[sample.kind] else { return }
            instruments.operations.increment()
            if sample.succeeded {
                instruments.bytes.increment(by: sample.bytes)
            } else {
                instruments.errors.increment()
            }
            instruments.latency.recordNanoseconds(Self.nanoseconds(sample.latency))
        }
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// The instruments of one disk and one class of command.
private struct DiskInstruments: Sendable {
    let operations: CoreMetrics.Counter
    let bytes: CoreMetrics.Counter
    let errors: CoreMetrics.Counter
    let latency: CoreMetrics.Timer
}
