// A clock that moves only when told, for deterministic tests of schedulers and histograms.

import Synchronization

/// Time stands still until `advance(by:)`; sleepers wake when it passes their deadline.
public final class ManualFilterClock: FilterClock {
    private struct State {
        var now: UInt64 = 0
        var sleepers: [(deadline: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())

    public init() {}

    public func nanoseconds() -> UInt64 { state.withLock { $0.now } }

    public func advance(byNanoseconds delta: UInt64) {
        let woken = state.withLock { state in
            state.now += delta
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    public func advance(by duration: Duration) {
        let (seconds, attoseconds) = duration.components
        advance(byNanoseconds: UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000))
    }

    /// How many tasks sleep on this clock now.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(untilNanoseconds deadline: UInt64) async throws {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state in
                if deadline <= state.now { return true }
                state.sleepers.append((deadline, continuation))
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}
