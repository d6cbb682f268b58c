// Single-flight session recovery: one login at a time, shared by every command that lost the connection.

import BlockDevice
import Foundation
import NIOConcurrencyHelpers

/// Keeps one live connection and replaces it when it is lost.
///
/// Every connection carries a generation number. A caller whose command failed on
/// generation g calls `recover(after: g)`: when a newer connection is already up it
/// gets that one at once, when a login is running it waits for that login, and
/// otherwise it starts the one login that everybody then shares. Attempts are paced
/// by a `ReconnectPolicy`; once it gives up the reconnector is failed and every call
/// throws `BlockDeviceError(.transport)` at once.
///
/// A connection is also watched while idle: `waitForLoss` returns when it is lost
/// (with the reason) and recovery starts without waiting for a command.
public final class Reconnector<Connection: Sendable>: Sendable {
    /// Logs in once; gets the time left before the policy gives up, to bound its own timeouts.
    public typealias Connect = @Sendable (_ remaining: Duration) async throws -> Connection
    /// Returns when the connection is lost (the reason), or nil when it ended on purpose.
    public typealias WaitForLoss = @Sendable (Connection) async -> String?

    /// A connection and its generation.
    public struct Link: Sendable {
        public let connection: Connection
        public let generation: Int
    }

    /// The time source: a monotonic `now` and a cancellable `sleep`.
    public struct Timing: Sendable {
        public var now: @Sendable () -> Duration
        public var sleep: @Sendable (Duration) async throws -> Void

        public init(now: @escaping @Sendable () -> Duration, sleep: @escaping @Sendable (Duration) async throws -> Void) {
            self.now = now
            self.sleep = sleep
        }

        /// The continuous clock.
        public static var continuous: Timing {
            let origin = ContinuousClock.now
            return Timing(now: { ContinuousClock.now - origin }, sleep: { try await Task.sleep(for: $0) })
        }
    }

    /// One run of logins replacing the connection of `generation`.
    private struct Recovery {
        var since: Date
        /// On `timing`'s clock, for the policy's timeout; kept when the run is interrupted.
        var started: Duration
        var attempts: Int
        var generation: Int
        var cause: String
        var task: Task<Void, Never>
        /// Tells an interrupted run from the one that replaced it.
        var id: UInt64
        /// Callers waiting for this run; answered when the phase leaves it (a login installed,
        /// recovery given up, the reconnector closed, the run interrupted).
        var waiters: [CheckedContinuation<Link, any Error>] = []
    }

    private enum Phase {
        case connected(Link)
        case recovering(Recovery)
        case failed(String)
        case closed
    }

    /// What `recover` does, decided under the lock.
    private enum Decision {
        case use(Link)
        case wait(UInt64)
        case fail(any Error)
        case turnedFailed(String)
        case started(UInt64)
    }

    private struct State {
        var phase: Phase
        /// The newest connection, even when it has been lost since.
        var latest: Link
        var reconnections = 0
        var nextRecovery: UInt64 = 0
    }

    public let policy: ReconnectPolicy
    /// What failure messages name, such as "LUN 0 of iqn.x at 127.0.0.1:3260".
    public let name: String
    private let connect: Connect
    private let waitForLoss: WaitForLoss
    private let disconnect: @Sendable (Connection) async -> Void
    private let onEvent: @Sendable (RecoveryEvent) -> Void
    private let timing: Timing
    private let state: NIOLockedValueBox<State>

    public init(
        connection: Connection,
        name: String,
        policy: ReconnectPolicy,
        timing: Timing = .continuous,
        connect: @escaping Connect,
        waitForLoss: @escaping WaitForLoss,
        disconnect: @escaping @Sendable (Connection) async -> Void,
        onEvent: @escaping @Sendable (RecoveryEvent) -> Void = { _ in }
    ) {
        self.name = name
        self.policy = policy
        self.timing = timing
        self.connect = connect
        self.waitForLoss = waitForLoss
        self.disconnect = disconnect
        self.onEvent = onEvent
        let link = Link(connection: connection, generation: 0)
        self.state = NIOLockedValueBox(State(phase: .connected(link), latest: link))
        watch(link)
    }

    /// Where the connection stands.
    public var recoveryState: RecoveryState {
        state.withLockedValue { state in
            switch state.phase {
            case .connected: .connected
            case .recovering(let recovery): .recovering(since: recovery.since, attempts: recovery.attempts)
            case .failed(let message): .failed(message)
            case .closed: .closed
            }
        }
    }

    /// The newest connection, which may have been lost since (then recovery is replacing it).
    public var latest: Connection { state.withLockedValue { $0.latest.connection } }

    /// How many times a lost connection was replaced.
    public var reconnections: Int { state.withLockedValue { $0.reconnections } }

    /// The live connection if there is one now; nil while recovering, failed or closed.
    public var connectedLink: Link? {
        state.withLockedValue { state in
            if case .connected(let link) = state.phase { link } else { nil }
        }
    }

    /// The live connection; while recovering, waits for the login under way.
    public func current() async throws -> Link {
        // Decided under the lock, so the common case copies out one link, not the phase.
        let decision = state.withLockedValue { state -> Decision in
            switch state.phase {
            case .connected(let link): .use(link)
            case .recovering(let recovery): .wait(recovery.id)
            case .failed(let message): .fail(BlockDeviceError(.transport, message))
            case .closed: .fail(closedError)
            }
        }
        switch decision {
        case .use(let link): return link
        case .wait(let id): return try await waitFor(run: id)
        case .fail(let error): throw error
        case .started(let id): return try await waitFor(run: id)
        case .turnedFailed(let message): throw BlockDeviceError(.transport, message)
        }
    }

    /// Replaces the connection of `generation`, which was lost because of `cause`; returns its successor.
    public func recover(after generation: Int, cause: String) async throws -> Link {
        let decision = state.withLockedValue { state -> Decision in
            switch state.phase {
            case .connected(let link) where link.generation != generation:
                return .use(link)
            case .connected(let link):
                guard policy.isEnabled else {
                    let message = "\(name) is failed: its connection was lost (\(cause)) and recovery is off"
                    state.phase = .failed(message)
                    return .turnedFailed(message)
                }
                return .started(startRecovery(&state, since: Date(), started: timing.now(), generation: link.generation, cause: cause, after: nil))
            case .recovering(let recovery):
                return .wait(recovery.id)
            case .failed(let message):
                return .fail(BlockDeviceError(.transport, message))
            case .closed:
                return .fail(closedError)
            }
        }
        switch decision {
        case .use(let link):
            return link
        case .wait(let id):
            return try await waitFor(run: id)
        case .fail(let error):
            throw error
        case .turnedFailed(let message):
            onEvent(.lost(reason: cause))
            onEvent(.failed(message))
            throw BlockDeviceError(.transport, message)
        case .started(let id):
            onEvent(.lost(reason: cause))
            return try await waitFor(run: id)
        }
    }

    /// Waits for run `id` to end, or answers at once when the phase has left it already.
    private func waitFor(run id: UInt64) async throws -> Link {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Link, any Error>) in
            let now = state.withLockedValue { state -> Result<Link, any Error>? in
                switch state.phase {
                case .recovering(var recovery) where recovery.id == id:
                    recovery.waiters.append(continuation)
                    state.phase = .recovering(recovery)
                    return nil
                case .recovering: return .failure(RecoveryInterrupted(name: name))
                case .connected(let link): return .success(link)
                case .failed(let message): return .failure(BlockDeviceError(.transport, message))
                case .closed: return .failure(closedError)
                }
            }
            if let now { continuation.resume(with: now) }
        }
    }

    /// Stops recovery and returns the live connection, if any, for the caller to log out.
    /// Later calls throw `.closed`; a login that completes after this is undone.
    public func close() -> Connection? {
        let phase = state.withLockedValue { state in
            defer { state.phase = .closed }
            return state.phase
        }
        switch phase {
        case .connected(let link): return link.connection
        case .recovering(let recovery):
            recovery.task.cancel()
            for waiter in recovery.waiters { waiter.resume(throwing: closedError) }
            return nil
        case .failed, .closed: return nil
        }
    }

    /// Ends the logins under way, if any, and starts them afresh: whoever waited for them (in
    /// `current` or `recover`) throws `RecoveryInterrupted` at once, and the next caller waits
    /// for the new run, which keeps the old one's start and so its timeout. The new run's first
    /// login begins only after the old run has ended (a login under way runs to its own
    /// timeout, and is logged out if it succeeds), so one login at a time still holds: two
    /// logins with one ISID would reinstate each other's nexus. Returns whether a run was
    /// interrupted.
    @discardableResult
    public func interruptRecovery() -> Bool {
        let interrupted = state.withLockedValue { state -> Recovery? in
            guard case .recovering(let old) = state.phase else { return nil }
            old.task.cancel()
            _ = startRecovery(&state, since: old.since, started: old.started, attempts: old.attempts, generation: old.generation, cause: old.cause, after: old.task)
            return old
        }
        guard let interrupted else { return false }
        for waiter in interrupted.waiters { waiter.resume(throwing: RecoveryInterrupted(name: name)) }
        return true
    }

    /// Starts a run of logins and makes it the phase (called under the lock, which the run
    /// itself takes first: it cannot look at the phase before it is set). A run that replaces
    /// an interrupted one waits for that one to end before its first login.
    private func startRecovery(
        _ state: inout State,
        since: Date,
        started: Duration,
        attempts: Int = 0,
        generation: Int,
        cause: String,
        after previous: Task<Void, Never>?
    ) -> UInt64 {
        state.nextRecovery &+= 1
        let id = state.nextRecovery
        let task = Task {
            await previous?.value
            do {
                try await self.runRecovery(id: id, after: generation, started: started, cause: cause)
            } catch {
                self.endRun(id, failingWith: error)
            }
        }
        state.phase = .recovering(Recovery(since: since, started: started, attempts: attempts, generation: generation, cause: cause, task: task, id: id))
        return id
    }

    /// A run that ended in an error while still the phase's (one its interrupter or closer
    /// already replaced has nothing left to answer): the reconnector is failed with that error.
    private func endRun(_ id: UInt64, failingWith error: any Error) {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Link, any Error>] in
            guard case .recovering(let recovery) = state.phase, recovery.id == id else { return [] }
            state.phase = .failed("\(name) is failed: \(error)")
            return recovery.waiters
        }
        for waiter in waiters { waiter.resume(throwing: error) }
    }

    // MARK: Recovery

    private var closedError: BlockDeviceError { BlockDeviceError(.closed, "\(name) is closed") }

    private func runRecovery(id: UInt64, after generation: Int, started: Duration, cause: String) async throws {
        var attempt = state.withLockedValue { state -> Int in
            guard case .recovering(let recovery) = state.phase, recovery.id == id else { return 0 }
            return recovery.attempts
        }
        var lastError = cause
        while true {
            attempt += 1
            let standing = state.withLockedValue { state -> Standing in
                switch state.phase {
                case .recovering(var recovery) where recovery.id == id:
                    recovery.attempts = attempt
                    state.phase = .recovering(recovery)
                    return .current
                case .recovering: return .interrupted
                case .connected, .failed, .closed: return .closed
                }
            }
            switch standing {
            case .current where !Task.isCancelled: break
            case .current, .interrupted: throw RecoveryInterrupted(name: name)
            case .closed: throw closedError
            }
            do {
                let remaining = policy.timeout - (timing.now() - started)
                let connection = try await connect(max(remaining, .milliseconds(100)))
                try await install(connection, id: id, generation: generation + 1, attempts: attempt, after: timing.now() - started)
                return
            } catch let error as BlockDeviceError where error.code == .closed {
                throw error
            } catch let error as RecoveryInterrupted {
                throw error
            } catch {
                lastError = "\(error)"
                onEvent(.attemptFailed(attempt: attempt, reason: lastError))
            }
            let elapsed = timing.now() - started
            switch policy.next(afterAttempt: attempt, elapsed: elapsed) {
            case .giveUp:
                throw giveUp(id: id, attempts: attempt, elapsed: elapsed, cause: cause, lastError: lastError)
            case .wait(let delay):
                do {
                    try await timing.sleep(delay)
                } catch {
                    throw state.withLockedValue { state -> any Error in
                        if case .recovering = state.phase { return RecoveryInterrupted(name: name) }
                        return closedError
                    }
                }
            }
        }
    }

    /// Whether a run of logins is still the one the phase names.
    private enum Standing {
        case current
        case interrupted
        case closed
    }

    /// Makes `connection` the live one and hands it to the run's waiters, unless the run was
    /// interrupted or the reconnector closed meanwhile (then the new session is logged out).
    private func install(_ connection: Connection, id: UInt64, generation: Int, attempts: Int, after elapsed: Duration) async throws {
        let link = Link(connection: connection, generation: generation)
        let outcome = state.withLockedValue { state -> Result<(Int, [CheckedContinuation<Link, any Error>]), any Error> in
            guard case .recovering(let recovery) = state.phase else { return .failure(closedError) }
            guard recovery.id == id else { return .failure(RecoveryInterrupted(name: name)) }
            state.phase = .connected(link)
            state.latest = link
            state.reconnections += 1
            return .success((state.reconnections, recovery.waiters))
        }
        switch outcome {
        case .success(let (reconnections, waiters)):
            onEvent(.reconnected(attempts: attempts, after: elapsed, reconnections: reconnections))
            watch(link)
            for waiter in waiters { waiter.resume(returning: link) }
        case .failure(let error):
            await disconnect(connection)
            throw error
        }
    }

    private func giveUp(id: UInt64, attempts: Int, elapsed: Duration, cause: String, lastError: String) -> any Error {
        let message = "\(name) is failed: its connection was lost (\(cause)) and \(attempts) login attempt(s) in \(Self.seconds(elapsed)) did not bring it back (recovery timeout \(Self.seconds(policy.timeout))); last error: \(lastError)"
        let outcome = state.withLockedValue { state -> Result<[CheckedContinuation<Link, any Error>], any Error> in
            guard case .recovering(let recovery) = state.phase else { return .failure(closedError) }
            guard recovery.id == id else { return .failure(RecoveryInterrupted(name: name)) }
            state.phase = .failed(message)
            return .success(recovery.waiters)
        }
        switch outcome {
        case .success(let waiters):
            onEvent(.failed(message))
            let failure = BlockDeviceError(.transport, message)
            for waiter in waiters { waiter.resume(throwing: failure) }
            return failure
        case .failure(let error):
            return error
        }
    }

    /// Starts recovery as soon as an idle connection is lost.
    private func watch(_ link: Link) {
        Task {
            guard let reason = await waitForLoss(link.connection) else { return }
            _ = try? await recover(after: link.generation, cause: reason)
        }
    }

    static func seconds(_ duration: Duration) -> String {
        let millis = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return "\(millis / 1000).\(millis % 1000 / 100) s"
    }
}

/// What a caller waiting for a login gets when `Reconnector.interruptRecovery()` ended that
/// run of logins; a new run has taken its place.
public struct RecoveryInterrupted: Error, CustomStringConvertible {
    public let name: String
    public var description: String { "the session recovery of \(name) was interrupted and started again" }
}
