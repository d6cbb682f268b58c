// The scheduler one host runs over the disks of one device (a datastore's LUN): mClock with
// shares and reservations, paced at the I/O rate the device can give.

import Synchronization

/// Shared by the ioControl filters of every disk on one device. Each disk registers with its
/// shares and reservation; each of its I/Os then waits here until mClock dispatches it. Under
/// the capacity nothing waits longer than one pump period (1 ms); above it, disks share the
/// capacity by their shares after their reservations are met.
public final class IOControlHost: Sendable {
    private struct State {
        var scheduler: MClockScheduler
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextID = 0
        var pumping = false
    }

    /// Named in errors: the datastore whose device this is.
    public let name: String
    private let clock: any FilterClock
    private let state: Mutex<State>
    /// The shortest sleep between two dispatch rounds (SPDK's QoS uses 1 ms timeslices too).
    private let period: UInt64 = 1_000_000

    public init(name: String, capacity: Double, clock: any FilterClock = SystemFilterClock()) {
        self.name = name
        self.clock = clock
        // Up to 20 ms of unused capacity is caught up after a late wake-up: on a loaded machine a
        // 1 ms sleep often lasts several.
        self.state = Mutex(State(scheduler: MClockScheduler(capacity: capacity, catchUpSeconds: 0.02)))
    }

    public var capacity: Double { state.withLock { $0.scheduler.capacity } }

    /// Adds or changes a disk. Refused, changing nothing, when the reservations of all disks
    /// would add up to more than the device can give.
    public func register(_ disk: String, reservation: Double, shares: Double) throws(FilterConfigError) {
        try state.withLock { (state: inout State) throws(FilterConfigError) in
            let others = state.scheduler.totalReservation - (state.scheduler.clients[disk]?.reservation ?? 0)
            guard others + reservation <= state.scheduler.capacity else {
                throw FilterConfigError(
                    .exceedsCapacity, filter: "ioControl", parameter: "reservation",
                    "a reservation of \(IOControlSettings.format(reservation)) IOPS for disk \(disk), with the \(IOControlSettings.format(others)) IOPS already reserved on \(name), is more than the \(IOControlSettings.format(state.scheduler.capacity)) IOPS its device can give"
                )
            }
            state.scheduler.setClient(disk, reservation: reservation, shares: shares)
        }
    }

    /// Forgets a disk; its queued I/Os go at once.
    public func unregister(_ disk: String) {
        let released = state.withLock { state in
            state.scheduler.removeClient(disk).compactMap { state.waiters.removeValue(forKey: $0) }
        }
        for waiter in released { waiter.resume() }
    }

    /// Queues one I/O of `disk` costing `cost` I/Os. Call with the disk's own order already
    /// settled (the filter's FIFO held); await the returned ticket after letting go of it.
    func enqueue(_ disk: String, cost: Double) -> Int {
        state.withLock { state in
            defer { state.nextID += 1 }
            state.scheduler.enqueue(disk, id: state.nextID, cost: cost, now: seconds(clock.nanoseconds()))
            return state.nextID
        }
    }

    /// Returns once the I/O `ticket` is dispatched.
    func wait(_ ticket: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let (startPump, resumeNow) = state.withLock { state -> (Bool, Bool) in
                // Gone already when the disk was unregistered in between.
                guard state.scheduler.clients.values.contains(where: { $0.queue.contains { $0.id == ticket } }) else { return (false, true) }
                state.waiters[ticket] = continuation
                defer { state.pumping = true }
                return (!state.pumping, false)
            }
            if resumeNow { continuation.resume() }
            if startPump { Task { await pump() } }
        }
    }

    private func seconds(_ nanoseconds: UInt64) -> Double { Double(nanoseconds) / 1e9 }

    /// Dispatches due I/Os until nothing is queued, sleeping between rounds.
    private func pump() async {
        while true {
            let now = clock.nanoseconds()
            let (due, next) = state.withLock { state -> ([CheckedContinuation<Void, Never>], Double?) in
                let ids = state.scheduler.dispatch(now: seconds(now))
                let due = ids.compactMap { state.waiters.removeValue(forKey: $0) }
                let next = state.scheduler.nextDispatchTime(now: seconds(now))
                if next == nil { state.pumping = false }
                return (due, next)
            }
            for waiter in due { waiter.resume() }
            guard let next else { return }
            let deadline = max(UInt64((next * 1e9).rounded(.up)), now + period)
            try? await clock.sleep(untilNanoseconds: deadline)
        }
    }
}
