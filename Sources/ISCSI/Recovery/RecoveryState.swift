// Where a recovering connection stands, as callers and the daemon see it.

import Foundation

/// The connection state of a LUN that recovers its session.
public enum RecoveryState: Sendable, Equatable {
    /// Logged in; commands go straight to the target.
    case connected
    /// The connection was lost at `since`; `attempts` logins have been tried so far.
    case recovering(since: Date, attempts: Int)
    /// Recovery gave up (or is off); every command fails at once with this message.
    case failed(String)
    /// The LUN was closed.
    case closed

    /// Whether a login is being retried right now.
    public var isRecovering: Bool {
        if case .recovering = self { true } else { false }
    }
}

/// What happened to a recovering connection, in order.
public enum RecoveryEvent: Sendable, Equatable {
    /// The connection was lost; recovery starts (unless it is off).
    case lost(reason: String)
    /// A login attempt failed; another follows after the backoff.
    case attemptFailed(attempt: Int, reason: String)
    /// A new session is up after `attempts` logins; `reconnections` counts them all.
    case reconnected(attempts: Int, after: Duration, reconnections: Int)
    /// Recovery gave up; the LUN is failed.
    case failed(String)
}
