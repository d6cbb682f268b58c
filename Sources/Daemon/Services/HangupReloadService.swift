// SIGHUP means "reload": re-validate the config, apply what can change live, report the rest.

import Logging
import ServiceLifecycle
import UnixSignals

/// Waits for SIGHUP until shutdown; each signal runs the same reload as the `reload` method.
struct HangupReloadService: Service {
    let reloader: ConfigReloader
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        // One turn per SIGHUP; the sequence ends at graceful shutdown.
        for await _ in hangups.cancelOnGracefulShutdown() {
            notifier.notify("RELOADING=1")
            switch await reloader.reload() {
            case .success(let plan):
                let pending = plan.changes.filter { !$0.appliedLive }.map(\.section)
                let status = pending.isEmpty ? "reloaded" : "reloaded; needs a restart for: \(pending.joined(separator: ", "))"
                notifier.notify("READY=1\nSTATUS=\(status)")
            case .failure(let invalid):
                for error in invalid.errors { logger.error("reload: \(error)") }
                notifier.notify("READY=1\nSTATUS=reload refused: the config is invalid; running config kept")
            }
        }
    }
}
