// Tells systemd the daemon is stopping as soon as graceful shutdown begins.

import ServiceLifecycle

/// Sleeps until graceful shutdown, then sends STOPPING=1 so systemd shows "deactivating" at once.
struct ShutdownNotifyService: Service {
    let notifier: SystemdNotifier
    let state: DaemonState

    func run() async throws {
        try await gracefulShutdown()
        state.setService("control-socket", .stopping)
        notifier.notify("STOPPING=1\nSTATUS=stopping")
    }
}
