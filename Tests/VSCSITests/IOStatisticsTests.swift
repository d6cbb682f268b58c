// IOStatistics on its own: totals, the percentile maths, rates since start and per interval.

import Synchronization
import Testing
@testable import VSCSI

/// A clock the test moves by hand.
final class ManualStatisticsClock: Sendable {
    private let now = Mutex<Duration>(.zero)
    func advance(_ by: Duration) { now.withLock { $0 += by } }
    var reading: @Sendable () -> Duration { { self.now.withLock { $0 } } }
}

@Suite struct IOStatisticsTests {
    @Test func countsOperationsBytesAndErrorsPerKind() {
        let statistics = IOStatistics()
        for _ in 0..<3 { statistics.record(.read, bytes: 4096, latency: .microseconds(10), succeeded: true) }
        statistics.record(.read, bytes: 4096, latency: .microseconds(10), succeeded: false)
        statistics.record(.write, bytes: 512, latency: .microseconds(20), succeeded: true)
        let snapshot = statistics.snapshot()
        #expect(snapshot[.read].totals == IOCounts(operations: 4, bytes: 12288, errors: 1))
        #expect(snapshot[.write].totals == IOCounts(operations: 1, bytes: 512, errors: 0))
        #expect(snapshot[.other].totals == IOCounts())
        #expect(snapshot[.other].latency == nil)
    }

    @Test func percentilesOfOneToAHundredAreExact() {
        let statistics = IOStatistics()
        // Recorded out of order: the histogram, not the arrival order, decides.
        for value in (1...100).reversed() { statistics.record(.read, bytes: 0, latency: .microseconds(value), succeeded: true) }
        #expect(statistics.snapshot()[.read].latency == LatencyPercentiles(
            p50Microseconds: 50, p90Microseconds: 90, p99Microseconds: 99, p999Microseconds: 100, maxMicroseconds: 100
        ))
    }

    @Test func percentilesOfOneToTwoThousandAreExact() {
        let statistics = IOStatistics()
        for value in 1...2000 { statistics.record(.write, bytes: 0, latency: .microseconds(value), succeeded: true) }
        // ceil(p / 100 * 2000)-th smallest value: 1000, 1800, 1980, 1998.
        #expect(statistics.snapshot()[.write].latency == LatencyPercentiles(
            p50Microseconds: 1000, p90Microseconds: 1800, p99Microseconds: 1980, p999Microseconds: 1998, maxMicroseconds: 2000
        ))
    }

    @Test func largeLatenciesStayWithinATenthOfAPercent() throws {
        let statistics = IOStatistics()
        for _ in 0..<9 { statistics.record(.other, bytes: 0, latency: .microseconds(100), succeeded: true) }
        statistics.record(.other, bytes: 0, latency: .milliseconds(2345), succeeded: true)
        let latency = try #require(statistics.snapshot()[.other].latency)
        #expect(latency.p50Microseconds == 100)
        #expect(latency.p90Microseconds == 100)
        // The 10th of 10 values: the slow one, to three significant digits.
        #expect(abs(Double(latency.p99Microseconds) - 2_345_000) <= 2_345)
        #expect(latency.maxMicroseconds == latency.p99Microseconds)
    }

    @Test func latenciesOverAMinuteAreClampedNotLost() throws {
        let statistics = IOStatistics()
        statistics.record(.read, bytes: 0, latency: .seconds(3600), succeeded: true)
        let latency = try #require(statistics.snapshot()[.read].latency)
        #expect(abs(Double(latency.maxMicroseconds) - Double(IOStatistics.highestTrackableMicroseconds)) <= 60_000)
        #expect(statistics.snapshot()[.read].totals.operations == 1)
    }

    @Test func ratesSinceStart() {
        let clock = ManualStatisticsClock()
        let statistics = IOStatistics(interval: .seconds(100), clock: clock.reading)
        for _ in 0..<50 { statistics.record(.write, bytes: 1_000_000, latency: .microseconds(5), succeeded: true) }
        clock.advance(.seconds(10))
        let snapshot = statistics.snapshot()
        #expect(snapshot.elapsed == .seconds(10))
        #expect(snapshot[.write].sinceStart == IORate(operationsPerSecond: 5, bytesPerSecond: 5_000_000))
        #expect(snapshot[.write].sinceStart.megabytesPerSecond == 5)
        // The first 100 s interval has not ended.
        #expect(snapshot[.write].lastInterval == nil)
    }

    @Test func lastIntervalIsTheMostRecentCompleteOne() {
        let clock = ManualStatisticsClock()
        let statistics = IOStatistics(interval: .seconds(1), clock: clock.reading)
        for _ in 0..<4 { statistics.record(.read, bytes: 2048, latency: .microseconds(5), succeeded: true) }
        clock.advance(.milliseconds(1500))
        #expect(statistics.snapshot()[.read].lastInterval == IORate(operationsPerSecond: 4, bytesPerSecond: 8192))
        statistics.record(.read, bytes: 2048, latency: .microseconds(5), succeeded: true)
        statistics.record(.read, bytes: 2048, latency: .microseconds(5), succeeded: false)
        clock.advance(.seconds(1))
        // Window [1 s, 2 s) held two reads, one failed: two operations, one read's bytes.
        #expect(statistics.snapshot()[.read].lastInterval == IORate(operationsPerSecond: 2, bytesPerSecond: 2048))
        clock.advance(.seconds(2))
        // Window [3 s, 4 s) saw nothing.
        #expect(statistics.snapshot()[.read].lastInterval == IORate(operationsPerSecond: 0, bytesPerSecond: 0))
        #expect(statistics.snapshot()[.read].totals == IOCounts(operations: 6, bytes: 10240, errors: 1))
    }

    @Test func observerSeesEverySample() {
        let seen = Mutex<[IOStatistics.Sample]>([])
        let statistics = IOStatistics(observer: { sample in seen.withLock { $0.append(sample) } })
        statistics.record(.write, bytes: 4096, latency: .microseconds(7), succeeded: true)
        statistics.record(.read, bytes: 0, latency: .microseconds(9), succeeded: false)
        #expect(seen.withLock { $0 } == [
            IOStatistics.Sample(kind: .write, bytes: 4096, latency: .microseconds(7), succeeded: true),
            IOStatistics.Sample(kind: .read, bytes: 0, latency: .microseconds(9), succeeded: false),
        ])
    }
}
