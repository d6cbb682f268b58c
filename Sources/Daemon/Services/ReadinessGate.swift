// Sends READY=1 once every part that must be up before clients are told so has reported in.

import NIOConcurrencyHelpers

/// Counts the parts still starting; the last one to report runs `onReady`, exactly once.
final class ReadinessGate: Sendable {
    private let remaining: NIOLockedValueBox<Int>
    private let onReady: @Sendable () -> Void

    init(parts: Int, onReady: @escaping @Sendable () -> Void) {
        self.remaining = NIOLockedValueBox(parts)
        self.onReady = onReady
    }

    func partReady() {
        let fire = remaining.withLockedValue { count -> Bool in
            count -= 1
            return count == 0
        }
        if fire { onReady() }
    }
}
