// What a scrape sees: gauges that follow the daemon's state are brought up to date first.

extension DaemonState {
    /// The metrics exposition, with `vdiskd_export_sessions` set from the sessions each
    /// configured export has right now (0 for one that is not serving), and
    /// `vdiskd_datastore_free_bytes` from each mounted datastore.
    public func metricsExposition() -> String {
        for settings in config.exports {
            let sessions = exports.export(settings.name)?.sessions.count ?? 0
            metrics.exportSessions(export: settings.name).record(sessions)
        }
        for settings in config.datastores {
            if let store = storage.datastore(settings.name) {
                metrics.datastoreFreeBytes(datastore: settings.name, store.freeBlocks * UInt64(store.fileBlockSize))
            }
        }
        return metrics.exposition() + inspectionExposition()
    }
}
