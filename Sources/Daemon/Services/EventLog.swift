// The daemon's recent state changes — targets, datastores, disks, exports — in a bounded ring,
// for `vdiskctl events`: what an operator reads first after an incident.

import Foundation
import Synchronization

/// One state change or notable happening of one part of the daemon.
public struct DaemonEvent: Sendable, Hashable {
    public var time: Date
    /// `kind:name`, as in `status` (`datastore:ds1`, `disk:ds1/vm1`).
    public var part: String
    /// The part's state word after the change (`running`, `fenced`, ...), or what happened
    /// to a part whose state did not change (`registered-again`, `recovered-host`).
    public var state: String
    public var reason: String?
}

/// The last `capacity` events, oldest first; older ones are dropped and counted.
public final class EventLog: Sendable {
    public static let defaultCapacity = 512

    private struct Inner {
        var events: [DaemonEvent] = []
        var start = 0
        var dropped = 0
    }

    public let capacity: Int
    private let inner = Mutex(Inner())

    public init(capacity: Int = EventLog.defaultCapacity) {
        self.capacity = max(1, capacity)
    }

    public func record(_ part: String, _ state: String, reason: String? = nil, at time: Date = Date()) {
        let event = DaemonEvent(time: time, part: part, state: state, reason: reason)
        inner.withLock { inner in
            if inner.events.count < capacity {
                inner.events.append(event)
            } else {
                inner.events[inner.start] = event
                inner.start = (inner.start + 1) % capacity
                inner.dropped += 1
            }
        }
    }

    /// Every event kept, oldest first, and how many older ones were dropped.
    public var snapshot: (events: [DaemonEvent], dropped: Int) {
        inner.withLock { inner in
            (Array(inner.events[inner.start...] + inner.events[..<inner.start]), inner.dropped)
        }
    }
}
