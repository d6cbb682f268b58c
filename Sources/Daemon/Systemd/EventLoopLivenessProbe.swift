// Checks that an event loop still runs tasks: the liveness signal behind the watchdog.

import NIOCore
import NIOConcurrencyHelpers

/// Submits a no-op to the loop and waits `deadline`; a loop blocked by a stuck handler never runs it.
/// The wait is a sleep, not an await on the loop, so a stalled loop cannot stall the probe too.
public struct EventLoopLivenessProbe: Sendable {
    let loop: any EventLoop
    let deadline: Duration

    public init(loop: any EventLoop, deadline: Duration) {
        self.loop = loop
        self.deadline = deadline
    }

    public func check() async -> Bool {
        let answered = NIOLockedValueBox(false)
        loop.execute {
            answered.withLockedValue { $0 = true }
        }
        try? await Task.sleep(for: deadline)
        return answered.withLockedValue { $0 }
    }
}
