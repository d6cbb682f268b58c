// Builds disks' filter chains for the daemon, reports their events, and changes them live.

import Datastore
import Filters
import Logging

/// The daemon's side of the Filters target: each chain gets its disk's name, its datastore's
/// mClock scheduler, the disk's sidecars (when it is open exclusively), and an event sink that
/// logs, counts and keeps the last event per disk.
enum FilterChains {
    /// The chain `specs` describe, for the disk `reference` (`datastore/disk`) opened as `disk`.
    static func build(_ specs: [FilterSpec], for reference: String, disk: VirtualDisk, state: DaemonState, logger: Logger) async throws(FilterConfigError) -> FilterChain {
        try await FilterRegistry.build(specs, context: context(for: reference, disk: disk, state: state, logger: logger))
    }

    static func context(for reference: String, disk: VirtualDisk?, state: DaemonState, logger: Logger) -> FilterContext {
        let datastore = String(reference.prefix(while: { $0 != "/" }))
        // Only the exclusive holder writes a disk's sidecars; a shared read-only open gets none.
        let sidecars = disk.flatMap { $0.mode == .exclusive ? DiskSidecarStore(disk: $0) : nil }
        return FilterContext(disk: reference, ioControlHost: state.storage.ioControlHost(datastore), sidecars: sidecars,
                             events: eventSink(state: state, logger: logger))
    }

    /// Where a disk's filter events go: the log (a warning: a filter broke), the
    /// `vdiskd_filter_events_total{disk,filter,kind}` counter, and the disk's last event.
    static func eventSink(state: DaemonState, logger: Logger) -> @Sendable (FilterEvent) -> Void {
        { event in
            let kind: String
            switch event.kind {
            case .failed: kind = "failed"
            case .timedOut: kind = "timed_out"
            case .bypassed: kind = "bypassed"
            case .sidecar: kind = "sidecar"
            }
            logger.warning("filter event", metadata: ["vdiskd.disk": "\(event.disk)", "vdiskd.filter": "\(event.filter)", "vdiskd.event": "\(event)"])
            state.metrics.counter("vdiskd_filter_events_total", [("disk", event.disk), ("filter", event.filter), ("kind", kind)]).increment()
        }
    }

    /// The chain in force as specs, the way the config writes it.
    static func specs(of chain: FilterChain) -> [FilterSpec] {
        chain.filters.map { FilterSpec(name: $0.name, parameters: $0.parameters) }
    }
}
