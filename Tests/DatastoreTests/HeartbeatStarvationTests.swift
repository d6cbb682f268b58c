// A healthy host keeps its lease while CPU-bound tasks hold every thread of the Swift task pool:
// the heartbeat runs on a thread of its own (HeartbeatExecutor), not in that pool.

import BlockDevice
import Datastore
import Foundation
import Synchronization
import Testing

/// When each renewal the heartbeat task reported happened, in order.
private final class RenewalTimes: Sendable {
    private let times = Mutex<[ContinuousClock.Instant]>([])
    func append(_ renewed: Bool) { if renewed { times.withLock { $0.append(.now) } } }
    var all: [ContinuousClock.Instant] { times.withLock { $0 } }
}

@Suite(.timeLimit(.minutes(1))) struct HeartbeatStarvationTests {
    /// Spins without suspending until `end`: one pool thread held for the whole window.
    private static func spin(until end: ContinuousClock.Instant) -> UInt64 {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        // Bounded by the deadline; checks the clock every 4096 rounds.
        while ContinuousClock.now < end {
            for _ in 0..<4096 { state ^= state << 13; state ^= state >> 7; state ^= state << 17 }
        }
        return state
    }

    @Test func aSaturatedTaskPoolDoesNotStarveTheHeartbeat() async throws {
        let fixture = try await DatastoreFixture()
        let renewals = RenewalTimes()
        var options = fixture.options()
        options.clock = SystemDatastoreClock()
        options.runsHeartbeatTask = true
        options.heartbeatInterval = .milliseconds(100)
        options.lease = .milliseconds(1500)
        options.heartbeatObserver = { renewals.append($0) }
        let store = try await Datastore.mount(device: try fixture.openDevice(), host: HostIdentity(uuid: UUID(), name: "busy"), options: options)

        // Four spinners per core, more than the pool has threads, for twice the lease. The test's
        // own task waits in the pool too, so it looks only once they are done.
        let window = Duration.seconds(3)
        let start = ContinuousClock.now
        let end = start + window
        let spinners = 4 * ProcessInfo.processInfo.activeProcessorCount
        await withTaskGroup(of: UInt64.self) { group in
            for _ in 0..<spinners { group.addTask { Self.spin(until: end) } }
            for await _ in group {}
        }

        let during = renewals.all.filter { $0 > start && $0 < end }
        // Every gap between renewals (and from the window's edges) stayed well inside the lease.
        let edges = [start] + during + [end]
        let longestGap = zip(edges, edges.dropFirst()).map { $1 - $0 }.max() ?? window
        #expect(during.count >= 5, "only \(during.count) renewals in \(window) with every pool thread busy")
        #expect(longestGap < options.lease, "the heartbeat stood still for \(longestGap) (lease \(options.lease))")
        #expect(store.fenceReason == nil, "a healthy host fenced itself: \(store.fenceReason ?? "")")
        try await store.unmount()
    }
}
