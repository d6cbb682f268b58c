// What a filter is given when it is built for one disk.

import BlockDevice

/// The disk a filter serves and the host's shared parts it may use.
public struct FilterContext: Sendable {
    /// `datastore/disk`, in messages and as the key of its shares and sidecars.
    public var disk: String
    public var clock: any FilterClock
    /// The scheduler of the disk's device, when its datastore sets a capacity.
    public var ioControlHost: IOControlHost?
    /// Where the filter's persistent state lives, when the daemon wired it.
    public var sidecars: (any SidecarStore)?
    /// Where a filter reports what happens outside an I/O (a sidecar it cannot load or save):
    /// the daemon's log, metrics and event counters.
    public var events: @Sendable (FilterEvent) -> Void

    public init(disk: String, clock: any FilterClock = SystemFilterClock(), ioControlHost: IOControlHost? = nil,
                sidecars: (any SidecarStore)? = nil, events: @escaping @Sendable (FilterEvent) -> Void = { _ in }) {
        self.disk = disk
        self.clock = clock
        self.ioControlHost = ioControlHost
        self.sidecars = sidecars
        self.events = events
    }
}
