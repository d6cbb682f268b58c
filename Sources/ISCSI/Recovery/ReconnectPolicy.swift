// When a LUN that lost its connection tries to log in again, and when it gives up.

/// The pacing of session recovery: bounded exponential backoff and a deadline.
///
/// The first attempt starts at once; after a failed attempt the next waits
/// `initialDelay`, then twice that, up to `maximumDelay`. Recovery gives up once
/// `timeout` has passed since the connection was lost (open-iscsi calls this the
/// replacement timeout). A timeout of zero turns recovery off.
public struct ReconnectPolicy: Sendable, Equatable {
    /// How long recovery may take in all; `.zero` means no recovery.
    public var timeout: Duration
    public var initialDelay: Duration
    public var maximumDelay: Duration

    /// open-iscsi's `replacement_timeout`.
    public static let defaultTimeout: Duration = .seconds(120)

    public init(
        timeout: Duration = ReconnectPolicy.defaultTimeout,
        initialDelay: Duration = .milliseconds(100),
        maximumDelay: Duration = .seconds(2)
    ) {
        self.timeout = timeout
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
    }

    /// No recovery: a lost connection fails the LUN.
    public static let off = ReconnectPolicy(timeout: .zero)

    public var isEnabled: Bool { timeout > .zero }

    /// The pause after failed attempt number `attempt` (1-based): doubling, never above `maximumDelay`.
    public func delay(afterAttempt attempt: Int) -> Duration {
        var delay = initialDelay
        for _ in 1..<max(1, attempt) {
            delay *= 2
            if delay >= maximumDelay { return maximumDelay }
        }
        return min(delay, maximumDelay)
    }

    /// What to do after failed attempt `attempt` when `elapsed` has passed since the loss.
    public func next(afterAttempt attempt: Int, elapsed: Duration) -> Step {
        guard elapsed < timeout else { return .giveUp }
        return .wait(min(delay(afterAttempt: attempt), timeout - elapsed))
    }

    /// The decision after a failed attempt.
    public enum Step: Sendable, Equatable {
        /// Sleep this long, then try again.
        case wait(Duration)
        /// The timeout has passed: the LUN is failed.
        case giveUp
    }
}
