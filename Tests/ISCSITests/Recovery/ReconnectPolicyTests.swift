// The pacing of session recovery: backoff doubling within bounds, and the deadline.

import ISCSI
import Testing

@Suite struct ReconnectPolicyTests {
    @Test func backoffDoublesFromTheInitialDelayUpToTheMaximum() {
        let policy = ReconnectPolicy()
        let delays = (1...8).map { policy.delay(afterAttempt: $0) }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1600), .seconds(2), .seconds(2), .seconds(2)])
        #expect(policy.delay(afterAttempt: 10_000) == .seconds(2))
    }

    @Test func theLastWaitEndsAtTheTimeoutAndThenItGivesUp() {
        let policy = ReconnectPolicy(timeout: .seconds(3))
        #expect(policy.next(afterAttempt: 1, elapsed: .zero) == .wait(.milliseconds(100)))
        #expect(policy.next(afterAttempt: 6, elapsed: .milliseconds(2500)) == .wait(.milliseconds(500)))
        #expect(policy.next(afterAttempt: 7, elapsed: .seconds(3)) == .giveUp)
        #expect(policy.next(afterAttempt: 1, elapsed: .seconds(4)) == .giveUp)
    }

    @Test func aZeroTimeoutTurnsRecoveryOff() {
        #expect(!ReconnectPolicy.off.isEnabled)
        #expect(ReconnectPolicy().isEnabled)
        #expect(ReconnectPolicy().timeout == .seconds(120))
    }
}
