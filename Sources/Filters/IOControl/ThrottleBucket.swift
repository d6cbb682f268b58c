// One leaky bucket of a disk's throttle, with QEMU's burst semantics (docs/throttle.txt there).

/// A rate limit with an optional burst. Each I/O adds its cost to `level`, which leaks at
/// `average` units per second. Without a burst the bucket holds a tenth of a second of
/// `average`. With `maximum` set, it holds `maximum × burstSeconds` units, and a second bucket
/// holding a tenth of a second of `maximum` (leaking at `maximum`) caps the burst's rate, so a
/// full-speed burst runs at `maximum` until `level` fills: that takes
/// `maximum × burstSeconds / (maximum − average)` seconds, a little longer than `burstSeconds`
/// (QEMU's documented example: 2000 IOPS over 100 for 60 s lasts about 63 s).
public struct ThrottleBucket: Sendable, Hashable {
    public var average: Double
    public var maximum: Double?
    public var burstSeconds: Double
    var level: Double = 0
    var burstLevel: Double = 0

    public init(average: Double, maximum: Double? = nil, burstSeconds: Double = 1) {
        self.average = average
        self.maximum = maximum
        self.burstSeconds = burstSeconds
    }

    var capacity: Double {
        if let maximum { return maximum * burstSeconds }
        return average / 10
    }

    /// Drains what leaked over `seconds`.
    mutating func leak(_ seconds: Double) {
        level = max(0, level - average * seconds)
        if let maximum { burstLevel = max(0, burstLevel - maximum * seconds) }
    }

    /// Seconds to wait before the next I/O may start (0: now). As in QEMU the check comes before
    /// the I/O's own cost is added, so one large I/O is never refused outright.
    func wait() -> Double {
        let extra = level - capacity
        if extra > 0 { return extra / average }
        if let maximum {
            let burstExtra = burstLevel - maximum / 10
            if burstExtra > 0 { return burstExtra / maximum }
        }
        return 0
    }

    mutating func account(_ units: Double) {
        level += units
        if maximum != nil { burstLevel += units }
    }
}
