// The per-disk throttle on a simulated clock: averages, QEMU's bursts, iops_size, bytes/s.

import Filters
import Testing

@Suite struct ThrottleTests {
    private func settings(_ parameters: [String: FilterParameterValue]) throws -> IOControlSettings {
        var reader = FilterParameterReader(FilterParameters(parameters), filter: "ioControl")
        let settings = IOControlSettings(FilterParameters(parameters), reader: &reader)
        reader.finish()
        if let error = reader.errors.first { throw error }
        return settings
    }

    /// Issues back-to-back I/Os of `bytes` for `seconds`, each as soon as the throttle lets it,
    /// returning their start times in seconds.
    private func run(_ throttle: inout Throttle, bytes: Int, isRead: Bool = true, seconds: Double) -> [Double] {
        var now: UInt64 = 0
        var times: [Double] = []
        let end = UInt64(seconds * 1e9)
        while now < end {
            let delay = throttle.delay(isRead: isRead, now: now)
            if delay == 0 {
                throttle.account(isRead: isRead, bytes: bytes)
                times.append(Double(now) / 1e9)
            } else {
                now += delay
            }
        }
        return times
    }

    private func count(_ times: [Double], from: Double, to: Double) -> Int {
        times.filter { $0 >= from && $0 < to }.count
    }

    @Test func anAverageHoldsAfterTheInitialTenthOfASecond() throws {
        var throttle = Throttle(try settings(["iops": .int(500)]), now: 0)
        let times = run(&throttle, bytes: 4096, seconds: 10)
        // The bucket starts empty and holds 50 I/Os (a tenth of a second), then 500 per second.
        #expect(abs(times.count - 5050) <= 2, "\(times.count)")
        #expect(abs(count(times, from: 5, to: 6) - 500) <= 1)
    }

    @Test func aBurstRunsAtItsRateUntilTheBucketFillsThenFallsBack() throws {
        // QEMU's semantics: iops 500, max 2000 for 2 s → the bucket holds 4000 I/Os and fills at
        // 1500 per second; the burst bucket's tenth of a second (200 I/Os) goes at once, so the
        // burst lasts (4000 − 200) / 1500 ≈ 2.53 s.
        var throttle = Throttle(try settings(["iops": .int(500), "iops_max": .int(2000), "iops_max_length": .int(2)]), now: 0)
        let times = run(&throttle, bytes: 4096, seconds: 6)
        #expect(abs(count(times, from: 0, to: 2) - 4200) <= 5, "\(count(times, from: 0, to: 2))")
        #expect(abs(count(times, from: 3, to: 6) - 1500) <= 5, "\(count(times, from: 3, to: 6))")
        let end = times.indices.dropFirst(100).first { times[$0] - times[$0 - 100] > 0.1 }.map { times[$0] } ?? 0
        #expect(abs(end - 3800.0 / 1500.0) < 0.1, "the burst ended at \(end) s")
    }

    @Test func iopsSizeCountsALargeIOAsSeveral() throws {
        var throttle = Throttle(try settings(["iops": .int(1000), "iops_size": .int(4096)]), now: 0)
        #expect(throttle.units(bytes: 4096) == 1 && throttle.units(bytes: 512) == 1)
        #expect(throttle.units(bytes: 65536) == 16)
        let times = run(&throttle, bytes: 65536, seconds: 10)
        // 1000 units per second at 16 units an I/O: 62.5 I/Os per second.
        #expect(abs(count(times, from: 2, to: 10) - 500) <= 2, "\(count(times, from: 2, to: 10))")
    }

    @Test func bytesPerSecondLimitsOneMebibyteIOs() throws {
        var throttle = Throttle(try settings(["bps_write": .int(8 << 20)]), now: 0)
        let times = run(&throttle, bytes: 1 << 20, isRead: false, seconds: 10)
        #expect(abs(count(times, from: 2, to: 10) - 64) <= 1, "\(count(times, from: 2, to: 10))")
        // Reads are not limited by a write limit.
        var free = Throttle(try settings(["bps_write": .int(8 << 20)]), now: 0)
        #expect(free.delay(isRead: true, now: 0) == 0)
    }

    @Test func aChangedLimitAppliesToTheNextIO() throws {
        var throttle = Throttle(try settings(["iops": .int(10)]), now: 0)
        _ = run(&throttle, bytes: 512, seconds: 1)
        throttle.change(to: try settings(["iops": .int(10000)]), now: 1_000_000_000)
        #expect(throttle.delay(isRead: true, now: 1_000_000_000) < 1_000_000)
    }
}
