// Time as the datastore sees it: a monotonic clock for leases, a wall clock for people.

/// The clock behind heartbeats and leases; tests inject one they can move by hand.
public protocol DatastoreClock: Sendable {
    /// Monotonic time since an arbitrary origin; only differences matter.
    func now() -> Duration
    /// Wall-clock time in Unix milliseconds, stored in records for people to read.
    func wallMillis() -> UInt64
    func sleep(for duration: Duration) async throws
}

/// The real clocks: `ContinuousClock` for leases, the system time for records.
public struct SystemDatastoreClock: DatastoreClock {
    private let origin = ContinuousClock.now

    public init() {}

    public func now() -> Duration { ContinuousClock.now - origin }

    public func wallMillis() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UInt64(spec.tv_sec) * 1000 + UInt64(spec.tv_nsec) / 1_000_000
    }

    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
