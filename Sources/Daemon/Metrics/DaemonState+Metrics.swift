// What a scrape sees: gauges that follow the daemon's state are brought up to date first.

import Export
import Paths

extension DaemonState {
    /// The metrics exposition, with `vdiskd_export_sessions` set from the sessions each
    /// configured export has right now (0 for one that is not serving), and
    /// `vdiskd_datastore_free_bytes` from each mounted datastore.
    public func metricsExposition() -> String {
        for settings in config.exports {
            let export = exports.export(settings.name)
            metrics.exportSessions(export: settings.name).record(export?.sessions.count ?? 0)
            let refusals = export?.server.refusals ?? ExportRefusals()
            for (limit, count) in [
                ("pending_logins", refusals.pendingLogins), ("pending_logins_per_source", refusals.pendingLoginsPerSource),
                ("descriptor_reserve", refusals.descriptors), ("sessions_per_initiator", refusals.sessionsPerInitiator),
            ] {
                metrics.exportRefusals(export: settings.name, limit: limit).record(count)
            }
        }
        for settings in config.datastores {
            if let store = storage.datastore(settings.name) {
                metrics.datastoreFreeBytes(datastore: settings.name, store.freeBlocks * UInt64(store.fileBlockSize))
            }
        }
        for (target, device) in storage.multipaths {
            for path in device.snapshot.paths {
                let counters = path.counters
                metrics.path("vdiskd_path_up", target: target, path: path.name).record(path.state == .active ? 1 : 0)
                for (kind, count) in [("read", counters.reads), ("write", counters.writes), ("other", counters.others)] {
                    metrics.path("vdiskd_path_commands", target: target, path: path.name, [("kind", kind)]).record(count)
                }
                metrics.path("vdiskd_path_bytes", target: target, path: path.name, [("direction", "read")]).record(counters.bytesRead)
                metrics.path("vdiskd_path_bytes", target: target, path: path.name, [("direction", "write")]).record(counters.bytesWritten)
                metrics.path("vdiskd_path_errors", target: target, path: path.name).record(counters.pathErrors)
                metrics.path("vdiskd_path_failures", target: target, path: path.name).record(counters.failures)
                metrics.path("vdiskd_path_latency_mean_seconds", target: target, path: path.name).record(Self.seconds(counters.latencyMean))
                metrics.path("vdiskd_path_latency_max_seconds", target: target, path: path.name).record(Self.seconds(counters.latencyMaximum))
            }
        }
        return metrics.exposition() + inspectionExposition()
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
