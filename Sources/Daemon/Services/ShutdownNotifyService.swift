// Tells systemd the daemon is stopping as soon as graceful shutdown begins.

import Logging
import ServiceLifecycle

/// Sleeps until graceful shutdown, then sends STOPPING=1 so systemd shows "deactivating" at once,
/// and closes targets still recovering so the shutdown does not wait for them.
struct ShutdownNotifyService: Service {
    let notifier: SystemdNotifier
    let state: DaemonState
    let logger: Logger

    func run() async throws {
        try await gracefulShutdown()
        state.setService("control-socket", .stopping)
        notifier.notify("STOPPING=1\nSTATUS=stopping")
        await StorageService.closeRecoveringTargets(state: state, logger: logger)
    }
}
