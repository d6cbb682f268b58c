// The state of one part of the daemon, as `status` reports it.

import Foundation

/// A service's state. `notStarted` carries why, so `status` never claims what is not running.
public enum ServiceState: Sendable, Hashable, CustomStringConvertible {
    case starting
    case running
    /// A target whose connection was lost while its LUN logs in again.
    case recovering(since: Date, attempts: Int)
    case stopping
    case stopped
    case failed(String)
    case notStarted(String)
    /// A datastore that stopped all I/O to protect data, and the disks on it.
    case fenced(String)
    /// A `takeover = "auto"` disk whose lock another host holds; the text names the holder.
    case waiting(String)

    public var description: String {
        switch self {
        case .starting: "starting"
        case .running: "running"
        case .recovering: "recovering: \(recoveryText)"
        case .stopping: "stopping"
        case .stopped: "stopped"
        case .failed(let reason): "failed: \(reason)"
        case .notStarted(let reason): "not started: \(reason)"
        case .fenced(let reason): "fenced: \(reason)"
        case .waiting(let holder): "waiting for \(holder)"
        }
    }

    /// The short word scripts match on; the reason goes in a separate field.
    public var name: String {
        switch self {
        case .starting: "starting"
        case .running: "running"
        case .recovering: "recovering"
        case .stopping: "stopping"
        case .stopped: "stopped"
        case .failed: "failed"
        case .notStarted: "not-started"
        case .fenced: "fenced"
        case .waiting: "waiting"
        }
    }

    /// Why a part is not simply running, for the `reason` field; nil when it is.
    public var reason: String? {
        switch self {
        case .failed(let reason), .notStarted(let reason), .fenced(let reason): reason
        case .waiting(let holder): "for \(holder)"
        case .recovering: recoveryText
        case .starting, .running, .stopping, .stopped: nil
        }
    }

    private var recoveryText: String {
        guard case .recovering(let since, let attempts) = self else { return "" }
        return "connection lost at \(since.formatted(.iso8601)); \(attempts) login attempt(s) so far"
    }
}
