// mClock (Gulati, Merchant, Varman, OSDI 2010) over the disks of one host: reservations first,
// then shares, at the rate the device can give.

import NIOCore

/// A pure scheduler: disks (clients) queue requests with a cost in I/Os; `dispatch(now:)`
/// returns the ones that may go, at most `capacity` I/Os per second in total. Each request is
/// tagged on arrival with a reservation tag (spaced cost/reservation seconds) and a proportional
/// tag (spaced cost/shares, scaled). A disk whose reservation tag is due goes first (constraint phase);
/// otherwise the smallest proportional tag goes (weight phase), and that disk's reservation
/// tags move back by what it got, so I/O given for shares is not also counted as reserved.
public struct MClockScheduler: Sendable {
    struct Pending: Sendable {
        var id: Int
        var cost: Double
        var reservationTag: Double
        var proportionalTag: Double
    }

    public struct Client: Sendable {
        public var reservation: Double
        public var shares: Double
        var lastReservationTag: Double = 0
        var lastProportionalTag: Double = 0
        var queue = CircularBuffer<Pending>()
    }

    public private(set) var clients: [String: Client] = [:]
    /// I/Os per second the device can give.
    public var capacity: Double
    private var nextSlot: Double = 0
    /// How much unused capacity may be caught up at once after the device idled or the pump slept.
    private let catchUp: Double

    public init(capacity: Double, catchUpSeconds: Double = 0.005) {
        precondition(capacity > 0, "an mClock scheduler needs a capacity")
        self.capacity = capacity
        self.catchUp = catchUpSeconds
    }

    public var totalReservation: Double { clients.values.reduce(0) { $0 + $1.reservation } }

    public var backlog: Int { clients.values.reduce(0) { $0 + $1.queue.count } }

    /// Adds a client or changes its reservation and shares (queued requests keep their tags).
    public mutating func setClient(_ name: String, reservation: Double, shares: Double) {
        precondition(shares > 0 && reservation >= 0, "shares must be positive and reservations not negative")
        if clients[name] == nil {
            clients[name] = Client(reservation: reservation, shares: shares)
        } else {
            clients[name]!.reservation = reservation
            clients[name]!.shares = shares
        }
    }

    /// Forgets a client and returns the ids it still had queued (the caller lets them go).
    public mutating func removeClient(_ name: String) -> [Int] {
        guard let client = clients.removeValue(forKey: name) else { return [] }
        return client.queue.map(\.id)
    }

    /// Queues request `id` of `cost` I/Os for `client`, arriving at `now` (seconds).
    public mutating func enqueue(_ client: String, id: Int, cost: Double, now: Double) {
        guard var entry = clients[client] else { preconditionFailure("client \(client) was never added") }
        if entry.queue.isEmpty {
            // A disk coming back from idle starts level with the busiest ones instead of far
            // behind them (the paper's tag adjustment), so idling earns no credit.
            let active = clients.filter { $0.key != client && !$0.value.queue.isEmpty }
            if let smallest = active.values.compactMap({ $0.queue.first?.proportionalTag }).min(), smallest > now {
                let shift = smallest - now
                for name in active.keys {
                    clients[name]!.lastProportionalTag -= shift
                    for index in clients[name]!.queue.indices { clients[name]!.queue[index].proportionalTag -= shift }
                }
            }
        }
        let reservationTag = entry.reservation > 0 ? max(entry.lastReservationTag + cost / entry.reservation, now) : .infinity
        // Shares are relative, so proportional tags are spaced in a scaled time: a disk given
        // exactly its share of the capacity advances its tags four times as fast as the clock.
        // Were they slower, `max(…, now)` would pull every backlogged disk's tags to the present
        // and the split would fall back to arrival order.
        let totalShares = clients.values.reduce(0) { $0 + $1.shares }
        let scale = 4 * totalShares / capacity
        let proportionalTag = max(entry.lastProportionalTag + cost * scale / entry.shares, now)
        if entry.reservation > 0 { entry.lastReservationTag = reservationTag }
        entry.lastProportionalTag = proportionalTag
        entry.queue.append(Pending(id: id, cost: cost, reservationTag: reservationTag, proportionalTag: proportionalTag))
        clients[client] = entry
    }

    /// The requests that may go at `now`, in dispatch order.
    public mutating func dispatch(now: Double) -> [Int] {
        nextSlot = max(nextSlot, now - catchUp)
        var dispatched: [Int] = []
        while nextSlot <= now {
            guard let picked = pick(now: now) else { break }
            let (name, weighted) = picked
            var client = clients[name]!
            let request = client.queue.removeFirst()
            if weighted && client.reservation > 0 {
                let credit = request.cost / client.reservation
                client.lastReservationTag -= credit
                for index in client.queue.indices { client.queue[index].reservationTag -= credit }
            }
            clients[name] = client
            dispatched.append(request.id)
            nextSlot += request.cost / capacity
        }
        return dispatched
    }

    /// When `dispatch` may next return something (nil: nothing is queued).
    public func nextDispatchTime(now: Double) -> Double? {
        backlog == 0 ? nil : max(now, nextSlot)
    }

    private func pick(now: Double) -> (String, weighted: Bool)? {
        var reserved: (String, Double)?
        var weighted: (String, Double)?
        for (name, client) in clients {
            guard let head = client.queue.first else { continue }
            if head.reservationTag <= now, head.reservationTag < (reserved?.1 ?? .infinity) {
                reserved = (name, head.reservationTag)
            }
            if head.proportionalTag < (weighted?.1 ?? .infinity) || (weighted == nil) {
                weighted = (name, head.proportionalTag)
            }
        }
        if let reserved { return (reserved.0, false) }
        if let weighted { return (weighted.0, true) }
        return nil
    }
}
