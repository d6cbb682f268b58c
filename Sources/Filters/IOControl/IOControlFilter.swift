// The ioControl filter: a disk's QoS. Limits and bursts per disk; shares and reservation in
// its host's mClock scheduler.

import BlockDevice
import Synchronization

/// Holds each request in the disk's FIFO until its throttle lets it go, then (when the disk's
/// datastore has a capacity set) until the host's mClock scheduler dispatches it, then passes
/// it down. Every operation takes the same FIFO, so a flush never overtakes a write queued
/// before it; flushes and reservation commands cost nothing against the limits.
/// Parameters change in place: a new limit applies to the request at the head of the queue
/// within one sleep slice (50 ms).
public final class IOControlFilter: IOFilter {
    public let name = "ioControl"
    public let category = FilterCategory.ioControl
    public let failurePolicy = FilterFailurePolicy.failIO
    public let operations = Set(FilterOperation.allCases)

    let disk: String
    private let clock: any FilterClock
    private let host: IOControlHost?
    private let throttle: Mutex<Throttle>
    private let gate = FIFOGate()
    /// The longest single sleep, so a limit changed live is seen promptly.
    private static let slice: UInt64 = 50_000_000

    /// Checks `settings` against the host (reservations must fit the device) and registers.
    public init(disk: String, settings: IOControlSettings, host: IOControlHost?, clock: any FilterClock) throws(FilterConfigError) {
        self.disk = disk
        self.clock = clock
        self.host = host
        self.throttle = Mutex(Throttle(settings, now: clock.nanoseconds()))
        try Self.checkHost(settings, host: host, disk: disk)
        try host?.register(disk, reservation: settings.reservation, shares: settings.shares)
    }

    private static func checkHost(_ settings: IOControlSettings, host: IOControlHost?, disk: String) throws(FilterConfigError) {
        guard host == nil else { return }
        if settings.reservation > 0 {
            throw FilterConfigError(.badValue, filter: "ioControl", parameter: "reservation", "disk \(disk): a reservation needs the device's capacity; set io_control_capacity_iops on its datastore")
        }
        if settings.shares != IOControlSettings.defaultShares {
            throw FilterConfigError(.badValue, filter: "ioControl", parameter: "shares", "disk \(disk): shares weigh disks in their datastore's scheduler; set io_control_capacity_iops on its datastore")
        }
    }

    public var settings: IOControlSettings { throttle.withLock { $0.settings } }
    public var parameters: FilterParameters { settings.parameters }

    public func update(_ parameters: FilterParameters) throws(FilterConfigError) {
        var reader = FilterParameterReader(parameters, filter: name)
        let settings = IOControlSettings(parameters, reader: &reader)
        reader.finish()
        if let first = reader.errors.first { throw first }
        try Self.checkHost(settings, host: host, disk: disk)
        try host?.register(disk, reservation: settings.reservation, shares: settings.shares)
        throttle.withLock { $0.change(to: settings, now: clock.nanoseconds()) }
    }

    public func detach() async throws {
        host?.unregister(disk)
    }

    public func handle(_ request: FilterRequest, next: FilterNext) async throws -> FilterReply {
        let counted: Bool
        switch request.operation {
        case .read, .write, .writeSame, .compareAndWrite, .unmap: counted = true
        case .flush, .reservation: counted = false
        }
        let isRead = request.operation == .read
        let bytes = request.transferBytes(blockSize: next.geometry.blockSize)
        let ticket: Int? = try await next.deferring {
            await gate.enter()
            defer { gate.leave() }
            var ticket: Int?
            if counted {
                while true {
                    let now = clock.nanoseconds()
                    let delay = throttle.withLock { throttle in
                        let delay = throttle.delay(isRead: isRead, now: now)
                        if delay == 0 { throttle.account(isRead: isRead, bytes: bytes) }
                        return delay
                    }
                    if delay == 0 { break }
                    try await clock.sleep(untilNanoseconds: now + min(delay, Self.slice))
                }
            }
            if let host {
                let units = counted ? throttle.withLock { $0.units(bytes: bytes) } : 0
                ticket = host.enqueue(disk, cost: units)
            }
            // The order among this disk's requests is fixed now; the wait for dispatch happens
            // outside the gate so the next request can take its place in the host's queue.
            return ticket
        }
        if let ticket, let host {
            try await next.deferring { await host.wait(ticket) }
        }
        return try await next.pass(request)
    }
}
