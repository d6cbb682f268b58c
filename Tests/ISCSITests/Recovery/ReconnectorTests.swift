// Single-flight recovery with scripted logins and a manual clock: one login for many callers,
// the backoff between failed attempts, giving up, and closing while recovering.

import BlockDevice
import ISCSI
import NIOConcurrencyHelpers
import Testing

@Suite struct ReconnectorTests {
    /// A scripted world: connections are numbers, logins fail while `down` is set, time moves only in `sleep`.
    final class Script: Sendable {
        let logins = NIOLockedValueBox(0)
        let down = NIOLockedValueBox(false)
        /// Logins up to this number fail as if the target were down.
        let failingLogins = NIOLockedValueBox(0)
        let clock = NIOLockedValueBox(Duration.zero)
        let sleeps = NIOLockedValueBox<[Duration]>([])
        let events = NIOLockedValueBox<[RecoveryEvent]>([])
        let disconnected = NIOLockedValueBox<[Int]>([])
        /// Lets a login start only after the test says so.
        let gate = NIOLockedValueBox<CheckedContinuation<Void, Never>?>(nil)
        let gated: Bool

        init(gated: Bool = false) { self.gated = gated }

        func reconnector(timeout: Duration) -> Reconnector<Int> {
            Reconnector(
                connection: 0,
                name: "LUN 0 of iqn.test at 127.0.0.1:1",
                policy: ReconnectPolicy(timeout: timeout),
                timing: Reconnector<Int>.Timing(
                    now: { self.clock.withLockedValue { $0 } },
                    sleep: { delay in
                        try Task.checkCancellation()
                        self.sleeps.withLockedValue { $0.append(delay) }
                        self.clock.withLockedValue { $0 += delay }
                        await Task.yield()
                        try Task.checkCancellation()
                    }
                ),
                connect: { _ in
                    if self.gated { await withCheckedContinuation { continuation in self.gate.withLockedValue { $0 = continuation } } }
                    let number = self.logins.withLockedValue { logins in
                        logins += 1
                        return logins
                    }
                    if self.down.withLockedValue({ $0 }) || number <= self.failingLogins.withLockedValue({ $0 }) { throw BlockDeviceError(.transport, "connection refused") }
                    return number
                },
                waitForLoss: { _ in nil },
                disconnect: { connection in self.disconnected.withLockedValue { $0.append(connection) } },
                onEvent: { event in self.events.withLockedValue { $0.append(event) } }
            )
        }

        func openGate() async throws {
            try await BoundedWait.run("a login to wait at the gate", within: BoundedWait.hangGuard) {
                while true {
                    if let continuation = self.gate.withLockedValue({ current -> CheckedContinuation<Void, Never>? in
                        defer { current = nil }
                        return current
                    }) {
                        continuation.resume()
                        return
                    }
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
        }
    }

    @Test func callersFailingTogetherShareOneLogin() async throws {
        let script = Script(gated: true)
        let link = script.reconnector(timeout: .seconds(10))
        let callers = (0..<8).map { _ in Task { try await link.recover(after: 0, cause: "connection reset") } }
        try await script.openGate()
        var generations: Set<Int> = []
        for caller in callers {
            let recovered = try await BoundedWait.run("a caller's recovery", within: BoundedWait.hangGuard) { try await caller.value }
            generations.insert(recovered.generation)
            #expect(recovered.connection == 1)
        }
        #expect(generations == [1])
        #expect(script.logins.withLockedValue { $0 } == 1)
        #expect(link.reconnections == 1)
        #expect(link.recoveryState == .connected)
        // A caller whose command failed on the old connection later gets the new one, no login.
        let late = try await link.recover(after: 0, cause: "late failure")
        #expect(late.connection == 1)
        #expect(script.logins.withLockedValue { $0 } == 1)
        #expect(script.events.withLockedValue { $0 } == [
            .lost(reason: "connection reset"),
            .reconnected(attempts: 1, after: .zero, reconnections: 1),
        ])
    }

    @Test func failedLoginsBackOffWithinBoundsUntilTheTargetIsBack() async throws {
        let script = Script()
        script.failingLogins.withLockedValue { $0 = 7 }
        let link = script.reconnector(timeout: .seconds(60))
        let recovered = try await BoundedWait.run("the recovery", within: BoundedWait.hangGuard) {
            try await link.recover(after: 0, cause: "target restarted")
        }
        #expect(recovered.generation == 1)
        #expect(recovered.connection == 8)
        let sleeps = script.sleeps.withLockedValue { $0 }
        #expect(Array(sleeps.prefix(6)) == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1600), .seconds(2)])
        #expect(sleeps.count == 7)
        #expect(sleeps.allSatisfy { $0 >= .milliseconds(100) && $0 <= .seconds(2) })
        #expect(link.reconnections == 1)
        let failures = script.events.withLockedValue { $0 }.filter { if case .attemptFailed = $0 { true } else { false } }
        #expect(failures.count == 7)
        #expect(script.events.withLockedValue { $0.last } == .reconnected(attempts: 8, after: sleeps.reduce(.zero, +), reconnections: 1))
    }

    @Test func recoveryGivesUpAtTheTimeoutAndThenFailsAtOnce() async throws {
        let script = Script()
        script.down.withLockedValue { $0 = true }
        let link = script.reconnector(timeout: .seconds(2))
        let error = try await BoundedWait.error("the recovery", within: BoundedWait.hangGuard) {
            _ = try await link.recover(after: 0, cause: "connection reset")
        }
        let failure = try #require(error as? BlockDeviceError)
        #expect(failure.code == .transport)
        #expect(failure.message.contains("LUN 0 of iqn.test at 127.0.0.1:1 is failed"))
        #expect(failure.message.contains("recovery timeout 2.0 s"))
        #expect(failure.message.contains("last error: transport failure: connection refused") || failure.message.contains("connection refused"))
        // The waits add up to the timeout exactly: the last one is cut short.
        #expect(script.sleeps.withLockedValue { $0.reduce(.zero, +) } == .seconds(2))
        guard case .failed = link.recoveryState else {
            Issue.record("expected failed, got \(link.recoveryState)")
            return
        }
        let loginsAtGiveUp = script.logins.withLockedValue { $0 }
        script.down.withLockedValue { $0 = false }
        let later = try await BoundedWait.error("a command after giving up", within: BoundedWait.hangGuard) {
            _ = try await link.current()
        }
        #expect((later as? BlockDeviceError)?.code == .transport)
        #expect(script.logins.withLockedValue { $0 } == loginsAtGiveUp)
        #expect(script.events.withLockedValue { $0.last } == .failed(failure.message))
    }

    @Test func aZeroTimeoutFailsOnTheFirstLoss() async throws {
        let script = Script()
        let link = script.reconnector(timeout: .zero)
        let error = try await BoundedWait.error("the recovery", within: BoundedWait.hangGuard) {
            _ = try await link.recover(after: 0, cause: "connection reset")
        }
        #expect((error as? BlockDeviceError)?.message.contains("recovery is off") == true)
        #expect(script.logins.withLockedValue { $0 } == 0)
    }

    @Test func closingWhileRecoveringEndsTheWaitAndUndoesALateLogin() async throws {
        let script = Script(gated: true)
        let link = script.reconnector(timeout: .seconds(10))
        let recovery = Task { try await link.recover(after: 0, cause: "connection reset") }
        _ = try await BoundedWait.run("recovery to start", within: BoundedWait.hangGuard) {
            while script.gate.withLockedValue({ $0 == nil }) { try await Task.sleep(for: .milliseconds(1)) }
        }
        #expect(link.close() == nil)
        try await script.openGate()
        let error = try await BoundedWait.error("the recovery after close", within: BoundedWait.hangGuard) {
            _ = try await recovery.value
        }
        #expect((error as? BlockDeviceError)?.code == .closed)
        #expect(script.disconnected.withLockedValue { $0 } == [1])
        #expect(link.recoveryState == .closed)
    }

    /// A revocation interrupts the logins under way: their waiters fail at once with
    /// `RecoveryInterrupted`, the interrupted run's late login is undone, and a new run, begun
    /// only once the old one ended (one login at a time), serves the callers that follow.
    @Test func anInterruptedRecoveryFailsItsWaitersAndStartsAfresh() async throws {
        let script = Script(gated: true)
        let link = script.reconnector(timeout: .seconds(10))
        let waiting = (0..<3).map { _ in Task { try await link.recover(after: 0, cause: "connection reset") } }
        _ = try await BoundedWait.run("the first login to start", within: BoundedWait.hangGuard) {
            while script.gate.withLockedValue({ $0 == nil }) { try await Task.sleep(for: .milliseconds(1)) }
        }
        #expect(link.interruptRecovery())
        for waiter in waiting {
            let error = try await BoundedWait.error("an interrupted waiter", within: BoundedWait.hangGuard) { _ = try await waiter.value }
            #expect(error is RecoveryInterrupted, "\(error)")
        }
        #expect(link.recoveryState.isRecovering, "a new run took the interrupted one's place: \(link.recoveryState)")
        // A caller after the interruption waits for the new run; the old run's login, let go
        // now, lands on nothing and is logged out.
        let later = Task { try await link.current() }
        try await script.openGate()
        try await script.openGate()
        let recovered = try await BoundedWait.run("the new run", within: BoundedWait.hangGuard) { try await later.value }
        #expect(recovered.generation == 1)
        #expect(recovered.connection == 2, "the new run's login, after the old one's")
        #expect(script.disconnected.withLockedValue { $0 } == [1])
        #expect(link.reconnections == 1)
        #expect(link.recoveryState == .connected)
        #expect(!link.interruptRecovery(), "nothing to interrupt while connected")
    }
}
