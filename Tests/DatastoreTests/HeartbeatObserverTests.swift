// DatastoreOptions.heartbeatObserver hears every renewal the heartbeat task makes, and its failures.

import BlockDevice
import Datastore
import Foundation
import Synchronization
import Testing

/// What the observer heard, in order.
private final class Outcomes: Sendable {
    private let heard = Mutex<[Bool]>([])
    func append(_ renewed: Bool) { heard.withLock { $0.append(renewed) } }
    var all: [Bool] { heard.withLock { $0 } }

    /// Waits (bounded) until what was heard satisfies `done`.
    func wait(until done: ([Bool]) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !done(all) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

@Suite(.timeLimit(.minutes(1))) struct HeartbeatObserverTests {
    @Test func theTaskReportsRenewalsAndThenFailures() async throws {
        let fixture = try await DatastoreFixture()
        let outcomes = Outcomes()
        var options = fixture.options()
        options.clock = SystemDatastoreClock()
        options.runsHeartbeatTask = true
        options.heartbeatInterval = .milliseconds(20)
        options.heartbeatObserver = { renewed in outcomes.append(renewed) }
        let device = try fixture.openDevice()
        let store = try await Datastore.mount(device: device, host: HostIdentity(uuid: UUID(), name: "a"), options: options)

        try await outcomes.wait { $0.count >= 3 }
        let renewed = outcomes.all
        #expect(renewed.count >= 3)
        #expect(renewed.allSatisfy { $0 })

        // With its device gone, each renewal fails, and the observer hears that too.
        try await device.close()
        try await outcomes.wait { $0.contains(false) }
        #expect(outcomes.all.contains(false))
        _ = try? await store.unmount()
    }
}
