// Re-reads and validates the config for `reload` and SIGHUP, applying what can change live.

import Logging

/// The one place a reload happens, so the control method and SIGHUP behave the same.
public struct ConfigReloader: Sendable {
    let state: DaemonState
    let logger: Logger
    let live: LiveChanges

    public init(state: DaemonState, logger: Logger, live: LiveChanges? = nil) {
        self.state = state
        self.logger = logger
        self.live = live ?? LiveChanges(state: state, logger: logger)
    }

    /// Validates the config file again. A bad file changes nothing and is returned as the failure.
    /// A good one is overlaid with the live changes still recorded (`LiveChangeRecord`). Of that,
    /// the log level, disks and exports are applied live, in the order that keeps every export's
    /// disks open while it serves: stop exports, close disks, open disks, start exports.
    /// Everything else is left as it runs and reported as needing a restart.
    public func reload() async -> Result<ReloadPlan, ConfigInvalid> {
        await live.serialized {
            let running = state.config
            let fileConfig: DaemonConfig
            do throws(ConfigInvalid) {
                fileConfig = try ConfigLoader.load(path: running.path)
            } catch {
                logger.warning("reload refused: the config is invalid; the running config stays", metadata: ["vdiskd.errors": "\(error.errors.count)"])
                return .failure(error)
            }
            // Live changes made through the control socket stay, unless the file changed what they changed.
            let (proposed, kept, dropped) = state.liveBase.changes.applied(to: fileConfig)
            for reason in dropped { logger.notice("reload: a live change gives way to the config file: \(reason)") }
            var plan = ReloadPlan(running: running, proposed: proposed)
            if proposed.daemon.logLevel != running.daemon.logLevel {
                state.updateConfig { $0.daemon.logLevel = proposed.daemon.logLevel }
                state.logLevel.set(proposed.daemon.logLevel)
            }
            for name in plan.exportsToStop {
                plan.record("export \(name)", await live.stopExport(name))
            }
            for reference in plan.disksToClose {
                plan.record("disk \(reference)", await live.closeDisk(reference))
            }
            for disk in plan.disksToOpen {
                plan.record("disk \(disk.reference)", await live.openDisk(disk))
            }
            for export in plan.exportsToStart {
                plan.record("export \(export.name)", await live.startExport(export))
            }
            state.setLiveBase(fileConfig: fileConfig, changes: kept)
            live.save(kept)
            for change in plan.changes {
                logger.info("reload: \(change.section): \(change.detail)", metadata: ["vdiskd.applied": "\(change.appliedLive)"])
            }
            return .success(plan)
        }
    }
}
