// The failed-login throttle with a given clock: a window, its end, one address apart from
// another, and the bound on the addresses it remembers.

@testable import Export
import NIOCore
import Testing

@Suite struct LoginFailureThrottleTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test func anAddressIsThrottledAfterItsFailuresUntilTheWindowEnds() {
        let throttle = LoginFailureThrottle(maximumFailures: 3, window: .seconds(10))
        for second in 0..<3 {
            #expect(!throttle.isThrottled("10.0.0.1", now: start + .seconds(Int64(second))))
            throttle.recordFailure("10.0.0.1", now: start + .seconds(Int64(second)))
        }
        #expect(throttle.isThrottled("10.0.0.1", now: start + .seconds(3)))
        #expect(throttle.isThrottled("10.0.0.1", now: start + .seconds(10) - .nanoseconds(1)))
        // Another address is judged on its own.
        #expect(!throttle.isThrottled("10.0.0.2", now: start + .seconds(3)))
        // The window is counted from the first failure; once it has passed, logins are judged again.
        #expect(!throttle.isThrottled("10.0.0.1", now: start + .seconds(10)))
        // And the count starts over: one new failure does not throttle.
        throttle.recordFailure("10.0.0.1", now: start + .seconds(11))
        #expect(!throttle.isThrottled("10.0.0.1", now: start + .seconds(12)))
    }

    @Test func failuresAfterTheWindowOpenANewOne() {
        let throttle = LoginFailureThrottle(maximumFailures: 2, window: .seconds(5))
        throttle.recordFailure("10.0.0.1", now: start)
        // The second failure comes after the first window: a new window, one failure in it.
        throttle.recordFailure("10.0.0.1", now: start + .seconds(6))
        #expect(!throttle.isThrottled("10.0.0.1", now: start + .seconds(7)))
        throttle.recordFailure("10.0.0.1", now: start + .seconds(8))
        #expect(throttle.isThrottled("10.0.0.1", now: start + .seconds(9)))
    }

    @Test func itRemembersABoundedNumberOfAddressesDroppingTheOldestLiveWindow() {
        let throttle = LoginFailureThrottle(maximumFailures: 1, window: .seconds(60), maximumAddresses: 3)
        for index in 0..<3 {
            throttle.recordFailure("10.0.0.\(index)", now: start + .seconds(Int64(index)))
        }
        #expect(throttle.isThrottled("10.0.0.0", now: start + .seconds(3)))
        // A fourth address pushes out the oldest window, 10.0.0.0's.
        throttle.recordFailure("10.0.0.3", now: start + .seconds(4))
        #expect(!throttle.isThrottled("10.0.0.0", now: start + .seconds(5)))
        for index in 1...3 {
            #expect(throttle.isThrottled("10.0.0.\(index)", now: start + .seconds(5)))
        }
    }
}
