// Tunables of one mount: heartbeat interval and lease, clock, caches, lock waits.

/// Tunables of a mount.
public struct DatastoreOptions: Sendable {
    /// How often the heartbeat is renewed (VMFS: 3 s).
    public var heartbeatInterval: Duration = .seconds(3)
    /// How long a heartbeat may stand still before its host is presumed dead (VMFS: 16 s).
    public var lease: Duration = .seconds(16)
    public var clock: any DatastoreClock = SystemDatastoreClock()
    /// Off in unit tests that renew by hand with a manual clock.
    public var runsHeartbeatTask = true
    /// Byte bound of each open disk's pointer-page cache.
    public var mapCacheBytes = 64 << 20
    /// How long to keep retrying a short-term lock (a cluster) held by a live host.
    public var lockWait: Duration = .seconds(5)
    /// Told the outcome (true: renewed) of each renewal the heartbeat task makes, for metrics.
    public var heartbeatObserver: (@Sendable (Bool) -> Void)?
    /// Told each fence, re-registration, recovery and space event as it happens (the daemon logs them).
    public var eventObserver: (@Sendable (DatastoreEvent) -> Void)?
    /// The soft threshold: `.spaceLow` is reported when this share (percent) of the data
    /// blocks is in use, `.spaceRecovered` when use falls below it again. Nil: no threshold.
    public var spaceWarningPercent: Int?

    public init() {}
}
