// A disk's limits as a set of leaky buckets, advanced by a clock: how long the next I/O waits.

/// The per-disk part of ioControl, a pure value: the filter asks `delay` for the I/O at the
/// head of its queue, sleeps that long, asks again, and `account`s the I/O once it is 0.
public struct Throttle: Sendable {
    public private(set) var settings: IOControlSettings
    private var lastLeak: UInt64

    public init(_ settings: IOControlSettings, now: UInt64) {
        self.settings = settings
        self.lastLeak = now
    }

    /// Takes new limits, keeping how full each bucket that stays is (a change of limit applies
    /// to the next I/O; a bucket that goes away forgets its level).
    public mutating func change(to settings: IOControlSettings, now: UInt64) {
        leak(now)
        var limits = settings.limits
        for (limit, bucket) in self.settings.limits {
            limits[limit]?.level = bucket.level
            limits[limit]?.burstLevel = bucket.burstLevel
        }
        var changed = settings
        changed.limits = limits
        self.settings = changed
    }

    /// The buckets an I/O of this kind draws from.
    private static func limits(isRead: Bool) -> [IOControlSettings.Limit] {
        isRead ? [.iops, .iopsRead, .bps, .bpsRead] : [.iops, .iopsWrite, .bps, .bpsWrite]
    }

    /// Nanoseconds the next I/O must still wait (0: it may go now).
    public mutating func delay(isRead: Bool, now: UInt64) -> UInt64 {
        leak(now)
        var seconds = 0.0
        for limit in Self.limits(isRead: isRead) {
            if let bucket = settings.limits[limit] { seconds = max(seconds, bucket.wait()) }
        }
        return UInt64((seconds * 1e9).rounded(.up))
    }

    /// How many I/Os an I/O of `bytes` counts as against IOPS limits (`iops_size`).
    public func units(bytes: Int) -> Double {
        guard let size = settings.iopsSize, bytes > size else { return 1 }
        return Double(bytes) / Double(size)
    }

    /// Adds an I/O that is going now.
    public mutating func account(isRead: Bool, bytes: Int) {
        let units = self.units(bytes: bytes)
        for limit in Self.limits(isRead: isRead) {
            settings.limits[limit]?.account(limit.countsBytes ? Double(bytes) : units)
        }
    }

    private mutating func leak(_ now: UInt64) {
        guard now > lastLeak else { return }
        let seconds = Double(now - lastLeak) / 1e9
        lastLeak = now
        for limit in settings.limits.keys {
            settings.limits[limit]?.leak(seconds)
        }
    }
}
