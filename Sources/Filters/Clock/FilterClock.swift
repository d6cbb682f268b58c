// The time filters schedule and measure by: the real monotonic clock in the daemon, a manual
// one in unit tests of the schedulers and histograms.

/// Nanoseconds on a monotonic clock, and a way to wait for a point on it.
public protocol FilterClock: Sendable {
    /// Nanoseconds since an arbitrary fixed origin.
    func nanoseconds() -> UInt64
    /// Returns once `nanoseconds()` has reached `deadline` (at once when it already has).
    func sleep(untilNanoseconds deadline: UInt64) async throws
}

/// The process's monotonic clock.
public struct SystemFilterClock: FilterClock {
    private let origin: ContinuousClock.Instant

    public init() {
        self.origin = .now
    }

    public func nanoseconds() -> UInt64 {
        let elapsed = ContinuousClock.now - origin
        let (seconds, attoseconds) = elapsed.components
        return UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    }

    public func sleep(untilNanoseconds deadline: UInt64) async throws {
        let now = nanoseconds()
        guard deadline > now else { return }
        try await Task.sleep(for: .nanoseconds(Int64(deadline - now)))
    }
}
