// Serves every [[export]] from the disks the storage service opened, and stops them first at
// shutdown: stop accepting, let commands in flight finish, log sessions out, flush the disks.

import Export
import Glibc
import ISCSI
import ISCSIAddress
import Logging
import NIOCore
import ServiceLifecycle

/// Waits for storage to be opened, starts each export, reports readiness, and on graceful
/// shutdown stops them all before the storage service closes the disks under them.
struct ExportService: Service {
    let state: DaemonState
    let group: any EventLoopGroup
    let logger: Logger
    let onServing: @Sendable () -> Void

    func run() async throws {
        Self.checkDescriptorLimit(state.config.exports, logger: logger)
        await state.storage.waitUntilOpened()
        // A SIGTERM that came while storage was still opening: nothing is started only to stop.
        if !Task.isCancelled && !Task.isShuttingDownGracefully {
            // Under the live-change lock, and skipping what already serves: a disk taken over
            // automatically (DiskTakeover) starts its exports as soon as it opens.
            await state.changes.lock()
            for settings in state.config.exports where state.exports.export(settings.name) == nil {
                await Self.start(settings, state: state, group: group, logger: logger)
            }
            state.changes.unlock()
        }
        onServing()
        try? await gracefulShutdown()
        for (name, export) in state.exports.removeAll() {
            await Self.stop(name, export, state: state, logger: logger)
        }
    }

    /// Warns when the soft descriptor limit is below what the exports can use at their limits:
    /// they would then hit it (and refuse clients for the reserve) before their own caps.
    static func checkDescriptorLimit(_ exports: [ExportSettings], logger: Logger) {
        var limits = rlimit()
        guard !exports.isEmpty, getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limits) == 0,
              limits.rlim_cur != rlim_t.max  // RLIM_INFINITY
        else { return }
        let needed = ExportSettings.descriptorsNeeded(by: exports)
        guard Int(clamping: limits.rlim_cur) < needed else { return }
        logger.warning(
            "the descriptor limit is below what the exports can use at their limits; raise LimitNOFILE or lower max_sessions",
            metadata: ["vdiskd.nofile": "\(limits.rlim_cur)", "vdiskd.nofile_needed": "\(needed)"]
        )
    }

    /// Starts one export (at start, or when a reload or `exports.add` adds it). Every disk it
    /// names must be open; a failure is recorded in the daemon state, never thrown.
    static func start(_ settings: ExportSettings, state: DaemonState, group: any EventLoopGroup, logger: Logger) async {
        let key = "export:\(settings.name)"
        var disks: [ServedExport.Disk] = []
        for reference in settings.disks {
            guard let disk = state.storage.disk(reference) else {
                state.setService(key, .notStarted("its disk \(reference) is not open"))
                return
            }
            var exported = disk.exportedDisk
            // A disk with a filter chain is presented through it.
            if let chain = state.storage.chain(reference) { exported.device = chain }
            // Shared by every export presenting this disk, and kept across reloads.
            exported.statistics = state.diskStatistics.statistics(for: reference)
            disks.append(exported)
        }
        state.setService(key, .starting)
        let config = state.config
        var access = TargetAccessPolicy(allowedInitiators: Set(settings.allowedInitiators))
        if let user = settings.chapUser, let secret = settings.chapSecret.flatMap({ config.secrets[$0] }) {
            access.chap = CHAPCredentials(user: user, secret: secret)
        }
        if let user = settings.mutualChapUser, let secret = settings.mutualChapSecret.flatMap({ config.secrets[$0] }) {
            access.mutualCHAP = CHAPCredentials(user: user, secret: secret)
        }
        var configuration = ExportConfiguration(
            portals: settings.listen.map { ISCSIEndpoint(host: $0.host, port: $0.port) },
            loginTimeout: .seconds(Int64(settings.loginTimeoutSeconds)),
            maximumSessions: settings.maxSessions,
            connectionWriteBudget: settings.connectionWriteBudgetBytes,
            exportWriteBudget: settings.writeBudgetBytes,
            dataPhaseTimeout: .seconds(Int64(settings.dataPhaseTimeoutSeconds)),
            maximumFailedLogins: settings.maxFailedLogins,
            discovery: settings.discovery == .open ? .open : .automatic,
            maximumDiscoverySessions: settings.maxDiscoverySessions,
            discoveryIdleTimeout: .seconds(Int64(settings.discoveryIdleTimeoutSeconds)),
            maximumPendingLogins: settings.maxPendingLogins,
            maximumPendingLoginsPerSource: settings.maxPendingLoginsPerSource,
            maximumSessionsPerInitiator: settings.maxSessionsPerInitiator,
            descriptorReserve: settings.descriptorReserve
        )
        // A third of the shutdown budget for commands in flight leaves the rest for closing storage.
        configuration.drainTimeout = .seconds(Int64(max(1, config.daemon.shutdownTimeoutSeconds / 3)))
        var exportLogger = logger
        exportLogger[metadataKey: "vdiskd.export"] = "\(settings.name)"
        let export = ServedExport(
            iqn: settings.iqn, access: access, disks: disks, readOnly: settings.readOnly,
            configuration: configuration, group: group, logger: exportLogger
        )
        do {
            let bound = try await export.start()
            state.exports.add(settings.name, export)
            state.setService(key, .running)
            exportLogger.info("serving", metadata: ["vdiskd.portals": "\(bound.map(\.description).joined(separator: " "))"])
        } catch {
            try? await export.stop()
            exportLogger.error("cannot serve export", metadata: ["vdiskd.error": "\(error)"])
            state.setService(key, .failed("\(error)"))
        }
    }

    /// Drains and stops one export; its disks stay open.
    static func stop(_ name: String, _ export: ServedExport, state: DaemonState, logger: Logger) async {
        let key = "export:\(name)"
        state.setService(key, .stopping)
        do {
            try await export.stop()
            state.setService(key, .stopped)
        } catch {
            logger.error("flushing an export's disks failed", metadata: ["vdiskd.export": "\(name)", "vdiskd.error": "\(error)"])
            state.setService(key, .failed("flushing: \(error)"))
        }
    }
}
