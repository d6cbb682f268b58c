// Block-range locks inside one logical unit: writes exclude every overlapping
// command, reads exclude only overlapping writes, so COMPARE AND WRITE, ORWRITE and
// WRITE ATOMIC are atomic while I/O to other ranges never waits.

import NIOConcurrencyHelpers

/// A table of held and awaited LBA ranges. Waiters are served in arrival order
/// among those they overlap, so a stream of readers cannot starve a writer.
final class RangeLockTable: Sendable {
    /// Proof of a held range, handed back to `unlock`.
    struct Token: Sendable {
        fileprivate let id: UInt64
    }

    private struct Range {
        var id: UInt64
        var start: UInt64
        var end: UInt64
        var exclusive: Bool

        func conflicts(with other: Range) -> Bool {
            (exclusive || other.exclusive) && start < other.end && other.start < end
        }
    }

    private struct Waiter {
        var range: Range
        var nexus: Nexus
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var nextID: UInt64 = 1
        var held: [Range] = []
        var waiting: [Waiter] = []

        /// Moves every waiter that no longer conflicts into `held`; returns them.
        mutating func admitWaiters() -> [CheckedContinuation<Void, any Error>] {
            var admitted: [CheckedContinuation<Void, any Error>] = []
            var stillWaiting: [Waiter] = []
            for waiter in waiting {
                let blocked = held.contains { $0.conflicts(with: waiter.range) }
                    || stillWaiting.contains { $0.range.conflicts(with: waiter.range) }
                if blocked {
                    stillWaiting.append(waiter)
                } else {
                    held.append(waiter.range)
                    admitted.append(waiter.continuation)
                }
            }
            waiting = stillWaiting
            return admitted
        }
    }

    /// Why a wait ended without the lock.
    enum WaitError: Error {
        case aborted
    }

    private let state = NIOLockedValueBox(State())

    /// Waits until `count` blocks at `lba` can be held; `exclusive` for writers.
    /// Throws `WaitError.aborted` when the nexus's task set is aborted while waiting,
    /// and `CancellationError` when the calling task is cancelled.
    func lock(lba: UInt64, count: UInt64, exclusive: Bool, nexus: Nexus) async throws -> Token {
        let (id, granted) = state.withLockedValue { state -> (UInt64, Bool) in
            let id = state.nextID
            state.nextID += 1
            let end = lba.addingReportingOverflow(count)
            let range = Range(id: id, start: lba, end: end.overflow ? .max : end.partialValue, exclusive: exclusive)
            let blocked = state.held.contains { $0.conflicts(with: range) }
                || state.waiting.contains { $0.range.conflicts(with: range) }
            if !blocked { state.held.append(range) }
            return (id, !blocked)
        }
        if granted { return Token(id: id) }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLockedValue { state -> (cancelled: Bool, admitted: [CheckedContinuation<Void, any Error>]) in
                    if Task.isCancelled { return (true, []) }
                    let end = lba.addingReportingOverflow(count)
                    let range = Range(id: id, start: lba, end: end.overflow ? .max : end.partialValue, exclusive: exclusive)
                    state.waiting.append(Waiter(range: range, nexus: nexus, continuation: continuation))
                    // Something may have been released between the first look and now;
                    // this waiter itself may be among those admitted.
                    return (false, state.admitWaiters())
                }
                if outcome.cancelled { continuation.resume(throwing: CancellationError()) }
                for admitted in outcome.admitted { admitted.resume() }
            }
        } onCancel: {
            let removed = state.withLockedValue { state -> Waiter? in
                guard let index = state.waiting.firstIndex(where: { $0.range.id == id }) else { return nil }
                return state.waiting.remove(at: index)
            }
            removed?.continuation.resume(throwing: CancellationError())
        }
        return Token(id: id)
    }

    /// Releases a range and lets in whoever it was holding up.
    func unlock(_ token: Token) {
        let admitted = state.withLockedValue { state -> [CheckedContinuation<Void, any Error>] in
            state.held.removeAll { $0.id == token.id }
            return state.admitWaiters()
        }
        for continuation in admitted { continuation.resume() }
    }

    /// Ends every wait of `nexus` with `WaitError.aborted` (ABORT TASK SET, PREEMPT AND ABORT).
    func abortWaiters(of nexus: Nexus) {
        let aborted = state.withLockedValue { state -> [Waiter] in
            let mine = state.waiting.filter { $0.nexus == nexus }
            state.waiting.removeAll { $0.nexus == nexus }
            return mine
        }
        for waiter in aborted { waiter.continuation.resume(throwing: WaitError.aborted) }
        // Waiters queued behind the aborted ones may go now.
        let admitted = state.withLockedValue { $0.admitWaiters() }
        for continuation in admitted { continuation.resume() }
    }

    /// Runs `body` holding the range.
    func withLock<T: Sendable>(
        lba: UInt64, count: UInt64, exclusive: Bool, nexus: Nexus, _ body: () async throws -> T
    ) async throws -> T {
        let token = try await lock(lba: lba, count: count, exclusive: exclusive, nexus: nexus)
        defer { unlock(token) }
        return try await body()
    }

    /// Ranges held now (tests and diagnostics).
    var heldCount: Int { state.withLockedValue { $0.held.count } }
}
