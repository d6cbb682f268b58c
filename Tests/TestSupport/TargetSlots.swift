// Bounds how many tgtd and istgt instances the tests run at once.
//
// Swift Testing starts every test of the run together. With dozens of tests each starting its
// own target on two cores, a target can miss its start deadline because the others crowd it
// out, not because anything is wrong. A test waits here for a slot instead; a slot is held
// from the target's start until it has been stopped.

import Foundation

public enum TargetSlots {
    /// At most this many targets run at once: `VDISKD_TEST_TARGET_SLOTS`, else 6.
    static let limit: Int = {
        let configured = ProcessInfo.processInfo.environment["VDISKD_TEST_TARGET_SLOTS"].flatMap(Int.init) ?? 6
        return max(1, configured)
    }()

    private static let semaphore = AsyncSemaphore(limit: limit)

    /// Whether the current task (or the task it was started from) already holds a slot.
    @TaskLocal private static var holding = false

    /// Starts a target holding a slot, runs `body` with it, and stops it on every path out of
    /// `body`, thrown errors and cancellation included, before the slot is given back.
    static func run<Daemon: ISCSITargetDaemon, Result>(
        _ start: () async throws -> Daemon,
        _ body: (Daemon) async throws -> Result
    ) async throws -> Result {
        try await with {
            let target = try await start()
            let result: Result
            do {
                result = try await body(target)
            } catch {
                await target.stopShielded()
                throw error
            }
            await target.stopShielded()
            return result
        }
    }

    /// Runs `body` holding one slot. A task that already holds one (a test running one target
    /// inside another) uses it again, so nested targets cannot wait on each other.
    static func with<Result>(_ body: () async throws -> Result) async throws -> Result {
        if holding { return try await body() }
        await semaphore.acquire()
        defer { semaphore.release() }
        return try await $holding.withValue(true) { try await body() }
    }
}

/// A counting semaphore for tasks: `acquire` suspends (never blocks a thread) until a unit is free.
final class AsyncSemaphore: @unchecked Sendable {
    // Unchecked Sendable: every field is read and written under `lock` only.
    private let lock = NSLock()
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) {
        available = limit
    }

    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if available > 0 {
                available -= 1
                lock.unlock()
                continuation.resume()
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }

    func release() {
        lock.lock()
        if waiters.isEmpty {
            available += 1
            lock.unlock()
        } else {
            // The unit passes straight to the longest waiter.
            let next = waiters.removeFirst()
            lock.unlock()
            next.resume()
        }
    }
}
