// The newest filter events of one disk, and where they are reported as they happen.

import Synchronization

/// Keeps the last `capacity` events for `vdiskctl disks filters show` and passes each to
/// the daemon's sink (log, status, metrics) as it happens.
final class FilterEventLog: Sendable {
    static let capacity = 32
    private let events = Mutex<[FilterEvent]>([])
    private let sink: @Sendable (FilterEvent) -> Void

    init(sink: @escaping @Sendable (FilterEvent) -> Void) {
        self.sink = sink
    }

    func record(_ event: FilterEvent) {
        events.withLock { events in
            if events.count == Self.capacity { events.removeFirst() }
            events.append(event)
        }
        sink(event)
    }

    var recent: [FilterEvent] { events.withLock { $0 } }
}
