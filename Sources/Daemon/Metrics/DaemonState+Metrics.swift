// What a scrape sees: gauges that follow the daemon's state are brought up to date first.

import Export

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
        return metrics.exposition() + inspectionExposition()
    }
}
