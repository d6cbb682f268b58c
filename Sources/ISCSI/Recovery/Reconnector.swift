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

    private enum Phase {
        case connected(Link)
        case recovering(since: Date, attempts: Int, generation: Int, Task<Link, any Error>)
        case failed(String)
        case closed
    }

    /// What `recover` does, decided under the lock.
    private enum Decision {
        case use(Link)
        case wait(Task<Link, any Error>)
        case fail(any Error)
        case turnedFailed(String)
        case started(Task<Link, any Error>)
    }

    private struct State {
        var phase: Phase
        /// The newest connection, even when it has been lost since.
        var latest: Link
        var reconnections = 0
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
            case .recovering(let since, let attempts, _, _): .recovering(since: since, attempts: attempts)
            case .failed(let message): .failed(message)
            case .closed: .closed
            }
        }
    }

    /// The newest connection, which may have been lost since (then recovery is replacing it).
    public var latest: Connection { state.withLockedValue { $0.latest.connection } }

    /// How many times a lost connection was replaced.
    public var reconnections: Int { state.withLockedValue { $0.reconnections } }

    /// The live connection; while recovering, waits for the login under way.
    public func current() async throws -> Link {
        let phase = state.withLockedValue { $0.phase }
        switch phase {
        case .connected(let link): return link
        case .recovering(_, _, _, let task): return try await task.value
        case .failed(let message): throw BlockDeviceError(.transport, message)
        case .closed: throw closedError
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
                let task = Task { try await self.runRecovery(after: link.generation, cause: cause) }
                state.phase = .recovering(since: Date(), attempts: 0, generation: link.generation, task)
                return .started(task)
            case .recovering(_, _, _, let task):
                return .wait(task)
            case .failed(let message):
                return .fail(BlockDeviceError(.transport, message))
            case .closed:
                return .fail(closedError)
            }
        }
        switch decision {
        case .use(let link):
            return link
        case .wait(let task):
            return try await task.value
        case .fail(let error):
            throw error
        case .turnedFailed(let message):
            onEvent(.lost(reason: cause))
            onEvent(.failed(message))
            throw BlockDeviceError(.transport, message)
        case .started(let task):
            onEvent(.lost(reason: cause))
            return try await task.value
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
        case .recovering(_, _, _, let task):
            task.cancel()
            return nil
        case .failed, .closed: return nil
        }
    }

    // MARK: Recovery

    private var closedError: BlockDeviceError { BlockDeviceError(.closed, "\(name) is closed") }

    private func runRecovery(after generation: Int, cause: String) async throws -> Link {
        let started = timing.now()
        var attempt = 0
        var lastError = cause
        while true {
            attempt += 1
            let isOpen = state.withLockedValue { state -> Bool in
                guard case .recovering(let since, _, let generation, let task) = state.phase else { return false }
                state.phase = .recovering(since: since, attempts: attempt, generation: generation, task)
                return true
            }
            guard isOpen, !Task.isCancelled else { throw closedError }
            do {
                let remaining = policy.timeout - (timing.now() - started)
                let connection = try await connect(max(remaining, .milliseconds(100)))
                return try await install(connection, generation: generation + 1, attempts: attempt, after: timing.now() - started)
            } catch let error as BlockDeviceError where error.code == .closed {
                throw error
            } catch {
                lastError = "\(error)"
                onEvent(.attemptFailed(attempt: attempt, reason: lastError))
            }
            let elapsed = timing.now() - started
            switch policy.next(afterAttempt: attempt, elapsed: elapsed) {
            case .giveUp:
                throw giveUp(attempts: attempt, elapsed: elapsed, cause: cause, lastError: lastError)
            case .wait(let delay):
                do {
                    try await timing.sleep(delay)
                } catch {
                    throw closedError
                }
            }
        }
    }

    /// Makes `connection` the live one, unless the reconnector was closed meanwhile.
    private func install(_ connection: Connection, generation: Int, attempts: Int, after elapsed: Duration) async throws -> Link {
        let link = Link(connection: connection, generation: generation)
        let reconnections = state.withLockedValue { state -> Int? in
            guard case .recovering = state.phase else { return nil }
            state.phase = .connected(link)
            state.latest = link
            state.reconnections += 1
            return state.reconnections
        }
        guard let reconnections else {
            await disconnect(connection)
            throw closedError
        }
        onEvent(.reconnected(attempts: attempts, after: elapsed, reconnections: reconnections))
        watch(link)
        return link
    }

    private func giveUp(attempts: Int, elapsed: Duration, cause: String, lastError: String) -> any Error {
        let message = "\(name) is failed: its connection was lost (\(cause)) and \(attempts) login attempt(s) in \(Self.seconds(elapsed)) did not bring it back (recovery timeout \(Self.seconds(policy.timeout))); last error: \(lastError)"
        let failed = state.withLockedValue { state -> Bool in
            guard case .recovering = state.phase else { return false }
            state.phase = .failed(message)
            return true
        }
        guard failed else { return closedError }
        onEvent(.failed(message))
        return BlockDeviceError(.transport, message)
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
