// Re-reads and validates the config for `reload` and SIGHUP, applying only what can change live.

import Logging

/// The one place a reload happens, so the control method and SIGHUP behave the same.
public struct ConfigReloader: Sendable {
    let state: DaemonState
    let logger: Logger

    public init(state: DaemonState, logger: Logger) {
        self.state = state
        self.logger = logger
    }

    /// Validates the config file again. A bad file changes nothing and is returned as the failure.
    public func reload() -> Result<ReloadPlan, ConfigInvalid> {
        let running = state.config
        let proposed: DaemonConfig
        do {
            proposed = try ConfigLoader.load(path: running.path)
        } catch {
            logger.warning("reload refused: the config is invalid; the running config stays", metadata: ["vdiskd.errors": "\(error.errors.count)"])
            return .failure(error)
        }
        let plan = ReloadPlan(running: running, proposed: proposed)
        var applied = running
        if proposed.daemon.logLevel != running.daemon.logLevel {
            applied.daemon.logLevel = proposed.daemon.logLevel
            state.logLevel.set(proposed.daemon.logLevel)
        }
        state.replaceConfig(applied)
        for change in plan.changes {
            logger.info("reload: \(change.section): \(change.detail)", metadata: ["vdiskd.applied": "\(change.appliedLive)"])
        }
        return .success(plan)
    }
}
