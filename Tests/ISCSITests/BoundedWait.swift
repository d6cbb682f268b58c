// Bounded waits for async tests: every wait has a deadline, so a hang fails the test instead of the suite.

import NIOConcurrencyHelpers

/// Deadlines for awaiting things in tests.
enum BoundedWait {
    /// How long a test waits for something that should take milliseconds, before calling it a hang.
    ///
    /// Generous on purpose: it only has to turn a hang into a failure. The tests'
    /// code runs on the two-thread cooperative pool, which a long synchronous test
    /// running in parallel can hold for seconds. Timing claims are checked against
    /// times taken on event loops instead (see `FakeTargetLog`).
    static let hangGuard: Duration = .seconds(30)

    /// What a wait that ran out of time throws.
    struct Timeout: Error, CustomStringConvertible {
        var what: String
        var after: Duration
        var description: String { "gave up after \(after) waiting for \(what)" }
    }

    /// What `error(_:within:_:)` throws when the operation it expected to fail succeeded.
    struct UnexpectedSuccess: Error, CustomStringConvertible {
        var what: String
        var description: String { "\(what) succeeded, but it should have failed" }
    }

    /// Runs `body`, or throws `Timeout` (and cancels `body`) when it takes longer than `timeout`.
    ///
    /// Not a task group: a group waits for its children before returning, and a child
    /// stuck in something that ignores cancellation (`Task.value`, a promise nobody
    /// fulfils) would hold the test forever. Here the wait ends at the deadline and a
    /// stuck body is left behind, which is what a failing test wants.
    static func run<T: Sendable>(
        _ what: String,
        within timeout: Duration,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let waiting = NIOLockedValueBox<CheckedContinuation<T, any Error>?>(nil)
        let work = NIOLockedValueBox<Task<Void, Never>?>(nil)
        let finish: @Sendable (Result<T, any Error>) -> Void = { result in
            let continuation = waiting.withLockedValue { current in
                defer { current = nil }
                return current
            }
            continuation?.resume(with: result)
        }
        return try await withCheckedThrowingContinuation { continuation in
            waiting.withLockedValue { $0 = continuation }
            let deadline = Task {
                // Cancelled when the body finishes first; then it must not report a timeout.
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                work.withLockedValue { $0?.cancel() }
                finish(.failure(Timeout(what: what, after: timeout)))
            }
            let task = Task {
                let result: Result<T, any Error>
                do {
                    result = .success(try await body())
                } catch {
                    result = .failure(error)
                }
                deadline.cancel()
                finish(result)
            }
            work.withLockedValue { $0 = task }
        }
    }

    /// The error `body` throws within `timeout`. Throws `Timeout` when it neither throws nor returns in
    /// time, and `UnexpectedSuccess` when it returns normally.
    static func error(
        _ what: String,
        within timeout: Duration,
        _ body: @escaping @Sendable () async throws -> Void
    ) async throws -> any Error {
        let outcome: Result<Void, any Error> = try await run(what, within: timeout) {
            do {
                try await body()
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        switch outcome {
        case .success: throw UnexpectedSuccess(what: what)
        case .failure(let error): return error
        }
    }

    /// Checks `condition` every 5 ms until it yields a value, for at most `timeout`.
    static func poll<T>(_ what: String, within timeout: Duration, _ condition: () -> T?) async throws -> T {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            if let value = condition() { return value }
            guard clock.now < deadline else { throw Timeout(what: what, after: timeout) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
