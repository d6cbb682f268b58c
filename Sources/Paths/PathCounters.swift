// What one path has carried: commands, bytes, errors and latency.

/// Counters of one path since the multipath device opened.
public struct PathCounters: Sendable, Hashable {
    public var reads = 0
    public var writes = 0
    /// Every other command: flushes, unmaps, reservations, probes are not counted.
    public var others = 0
    public var bytesRead = 0
    public var bytesWritten = 0
    /// Commands that failed on this path because of the path (and were retried elsewhere).
    public var pathErrors = 0
    /// Times the path went from usable to dead.
    public var failures = 0
    /// Commands and probes slower than the stall threshold (counted at most once a second).
    public var stalls = 0
    /// Completed commands and their summed and longest latency.
    public var completions = 0
    public var latencyTotal: Duration = .zero
    public var latencyMaximum: Duration = .zero

    public init() {}

    /// The mean latency of completed commands.
    public var latencyMean: Duration {
        completions == 0 ? .zero : latencyTotal / completions
    }

    mutating func complete(_ kind: PathIOKind, bytes: Int, latency: Duration) {
        switch kind {
        case .read:
            reads += 1
            bytesRead += bytes
        case .write:
            writes += 1
            bytesWritten += bytes
        case .other:
            others += 1
        }
        completions += 1
        latencyTotal += latency
        latencyMaximum = max(latencyMaximum, latency)
    }
}

/// What a command does, for the counters.
enum PathIOKind: Sendable {
    case read, write, other
}
