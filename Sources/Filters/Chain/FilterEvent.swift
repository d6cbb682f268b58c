// Something a disk's chain reports about one of its filters: an alert for the daemon's log,
// status and metrics.

/// A filter broke on one disk. Only that disk's I/O was affected.
public struct FilterEvent: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The filter threw an error of its own; the I/O failed (policy `fail-io`).
        case failed(FilterOperation, String)
        /// The filter held an I/O past its answer timeout; the I/O failed (policy `fail-io`).
        case timedOut(FilterOperation, Duration)
        /// The filter broke and its policy is `bypass`: the chain skips it on this disk from now
        /// on; the I/O that found it broken went on without it.
        case bypassed(String)
        /// The filter's persistent state (a sidecar) could not be loaded or saved; I/O goes on.
        case sidecar(String)
    }

    public var disk: String
    public var filter: String
    public var kind: Kind
    public var at: ContinuousClock.Instant

    public init(disk: String, filter: String, kind: Kind, at: ContinuousClock.Instant = .now) {
        self.disk = disk
        self.filter = filter
        self.kind = kind
        self.at = at
    }

    public var description: String {
        switch kind {
        case .failed(let operation, let error): "filter \(filter) on disk \(disk) failed a \(operation): \(error)"
        case .timedOut(let operation, let limit): "filter \(filter) on disk \(disk) did not answer a \(operation) within \(limit); the I/O failed"
        case .bypassed(let reason): "filter \(filter) on disk \(disk) is bypassed from now on: \(reason)"
        case .sidecar(let problem): "filter \(filter) on disk \(disk): \(problem)"
        }
    }
}
