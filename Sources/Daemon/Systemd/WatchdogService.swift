// Pings the systemd watchdog while the daemon is healthy, and stops pinging when it stalls.

import Logging
import ServiceLifecycle

/// Every `interval` it asks `probe` whether the daemon still makes progress, and sends WATCHDOG=1
/// only then: a stalled event loop therefore lets systemd's WatchdogSec expire and restart us.
public struct WatchdogService: Service {
    let interval: Duration
    let notifier: SystemdNotifier
    let probe: @Sendable () async -> Bool
    let logger: Logger

    public init(interval: Duration, notifier: SystemdNotifier, logger: Logger, probe: @escaping @Sendable () async -> Bool) {
        self.interval = interval
        self.notifier = notifier
        self.logger = logger
        self.probe = probe
    }

    public func run() async throws {
        // Ends with graceful shutdown or cancellation, whichever comes first; each turn sleeps.
        // Being cancelled is this service's normal end, not a failure of the group.
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    try await Task.sleep(for: interval)
                    if await probe() {
                        notifier.notify("WATCHDOG=1")
                    } else {
                        logger.warning("watchdog: the daemon did not answer its liveness probe; not pinging systemd")
                    }
                }
            }
        } catch is CancellationError {
            return
        }
    }
}
