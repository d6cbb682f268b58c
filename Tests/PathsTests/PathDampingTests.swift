// Flap damping: one failure never keeps a path out; a burst does, for a bounded time.

import Testing
@testable import Paths

struct PathDampingTests {
    @Test func oneFailureDoesNotSuppress() {
        var damping = PathDamping()
        damping.recordFailure(at: .seconds(1))
        let open = damping.allowsUse(at: .seconds(1))
        #expect(open)
    }

    @Test func aBurstSuppressesUntilThePenaltyDecays() {
        var damping = PathDamping()
        for second in 0..<4 { damping.recordFailure(at: .seconds(second)) }
        let suppressed = damping.allowsUse(at: .seconds(4))
        #expect(!suppressed)
        let wait = damping.remainingSuppression(at: .seconds(4))
        #expect(wait > .seconds(20) && wait < .seconds(60), "\(wait)")
        let stillSuppressed = damping.allowsUse(at: .seconds(4) + wait - .seconds(2))
        #expect(!stillSuppressed)
        let reused = damping.allowsUse(at: .seconds(4) + wait + .seconds(1))
        #expect(reused)
    }

    @Test func thePenaltyIsCappedSoAFlapStormEndsInBoundedTime() {
        var damping = PathDamping()
        for tenth in 0..<300 { damping.recordFailure(at: .milliseconds(100 * tenth)) }
        let wait = damping.remainingSuppression(at: .seconds(30))
        #expect(wait <= .seconds(45), "\(wait)")
        #expect(damping.penalty(at: .seconds(30)) <= damping.settings.maximumPenalty)
    }

    @Test func failuresSpreadOverMinutesNeverSuppress() {
        var damping = PathDamping()
        for minute in 0..<10 {
            damping.recordFailure(at: .seconds(60 * minute))
            let allowed = damping.allowsUse(at: .seconds(60 * minute))
            #expect(allowed)
        }
    }

    @Test func stallsCountOnceASecondAndEnoughOfThemSuppress() {
        var damping = PathDamping()
        // A queue of 32 commands stalled together is one stall.
        let counted = (0..<32).filter { _ in damping.recordStall(at: .seconds(1)) }.count
        #expect(counted == 1)
        #expect(!damping.isSuppressed(at: .seconds(1)))
        // A stall a second for three seconds (a link flapping under a live session) suppresses.
        for second in 2...3 { damping.recordStall(at: .seconds(second)) }
        #expect(damping.isSuppressed(at: .seconds(3)))
        #expect(!damping.isSuppressed(at: .seconds(3) + damping.remainingSuppression(at: .seconds(3)) + .seconds(1)))
    }
}
