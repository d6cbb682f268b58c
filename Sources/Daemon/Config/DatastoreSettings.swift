// One `[[datastore]]`: a datastore mounted from a configured target.

import Foundation

/// A datastore on a target's LUN, mounted with this host's identity.
public struct DatastoreSettings: Sendable, Hashable {
    public var name: String
    /// The `[[target]]` whose LUN holds the datastore.
    public var target: String
    /// Must stay the same across restarts: on-disk locks and the heartbeat slot are owned by it.
    public var hostUUID: UUID
    public var hostName: String
    public var heartbeatIntervalSeconds: Int = 3
    public var heartbeatLeaseSeconds: Int = 16
    /// The thin-provisioning soft threshold, percent of data blocks used (0: none).
    public var spaceWarningPercent: Int = 90
    /// The I/O rate the datastore's device can give, in IOPS. When set, the ioControl filters of
    /// this datastore's disks share it by mClock (shares, reservations); nil: no host scheduling.
    public var ioControlCapacityIOPS: Int?

    public init(name: String, target: String, hostUUID: UUID, hostName: String) {
        self.name = name
        self.target = target
        self.hostUUID = hostUUID
        self.hostName = hostName
    }
}
