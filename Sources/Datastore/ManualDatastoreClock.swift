// A clock that moves only when told to, so lease and fencing logic is tested without sleeping.

import NIOConcurrencyHelpers

/// A ``DatastoreClock`` for tests and simulations: `advance(by:)` moves both clocks.
public final class ManualDatastoreClock: DatastoreClock {
    private let state: NIOLockedValueBox<(now: Duration, wall: UInt64)>

    public init(wallMillis: UInt64 = 1_700_000_000_000) {
        state = NIOLockedValueBox((.zero, wallMillis))
    }

    public func now() -> Duration { state.withLockedValue { $0.now } }

    public func wallMillis() -> UInt64 { state.withLockedValue { $0.wall } }

    public func advance(by duration: Duration) {
        state.withLockedValue { state in
            state.now += duration
            let (seconds, attoseconds) = duration.components
            state.wall += UInt64(seconds) * 1000 + UInt64(attoseconds / 1_000_000_000_000_000)
        }
    }

    /// Returns once the clock has been advanced by `duration` (polling: tests only).
    public func sleep(for duration: Duration) async throws {
        let deadline = now() + duration
        while now() < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
