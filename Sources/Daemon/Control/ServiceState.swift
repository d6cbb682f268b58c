// The state of one part of the daemon, as `status` reports it.

/// A service's state. `notStarted` carries why, so `status` never claims what is not running.
public enum ServiceState: Sendable, Hashable, CustomStringConvertible {
    case starting
    case running
    case stopping
    case stopped
    case failed(String)
    case notStarted(String)

    public var description: String {
        switch self {
        case .starting: "starting"
        case .running: "running"
        case .stopping: "stopping"
        case .stopped: "stopped"
        case .failed(let reason): "failed: \(reason)"
        case .notStarted(let reason): "not started: \(reason)"
        }
    }

    /// The short word scripts match on; the reason goes in a separate field.
    public var name: String {
        switch self {
        case .starting: "starting"
        case .running: "running"
        case .stopping: "stopping"
        case .stopped: "stopped"
        case .failed: "failed"
        case .notStarted: "not-started"
        }
    }
}
