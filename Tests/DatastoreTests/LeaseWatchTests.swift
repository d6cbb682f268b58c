// A renewal that waits on the LUN longer than the lease (a cut link) does not hide the lease
// running out: the fence is declared when it does, with no I/O and no status read to notice it.

import BlockDevice
@testable import Datastore
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// Holds every COMPARE AND WRITE (a heartbeat renewal in ATS mode) after `cut()` until `heal()`,
/// as a session recovery would; a revocation fails the ones held, as the initiators do.
private final class CuttableDevice: ForwardingBlockDevice {
    let base: any BlockDevice
    private let isCut = NIOLockedValueBox(false)
    let revocations = NIOLockedValueBox<[String]>([])

    init(_ base: any BlockDevice) { self.base = base }

    func cut() { isCut.withLockedValue { $0 = true } }
    func heal() { isCut.withLockedValue { $0 = false } }

    func compareAndWrite(at lba: UInt64, expected: ByteBuffer, replacement: ByteBuffer) async throws {
        let revokedBefore = revocations.withLockedValue { $0.count }
        // Bounded: a test that never heals lets the renewal go after 20 s.
        let deadline = ContinuousClock.now + .seconds(20)
        while isCut.withLockedValue({ $0 }) && ContinuousClock.now < deadline {
            if let reason = revocations.withLockedValue({ $0.count > revokedBefore ? $0.last : nil }) {
                throw BlockDeviceError(.fenced, "compare and write taken back: \(reason)")
            }
            try? await Task.sleep(for: .milliseconds(2))
        }
        try await base.compareAndWrite(at: lba, expected: expected, replacement: replacement)
    }

    func revokeOutstandingCommands(reason: String) async {
        revocations.withLockedValue { $0.append(reason) }
    }
}

@Suite(.timeLimit(.minutes(1))) struct LeaseWatchTests {
    @Test func theLeaseFenceIsDeclaredWhenTheLeaseRunsOutWhileARenewalWaits() async throws {
        let fixture = try await DatastoreFixture()
        let clock = ManualDatastoreClock()
        let events = NIOLockedValueBox<[DatastoreEvent]>([])
        var options = fixture.options(clock: clock)
        options.runsHeartbeatTask = true
        options.heartbeatInterval = .seconds(2)
        options.lease = .seconds(8)
        options.eventObserver = { event in events.withLockedValue { $0.append(event) } }
        let device = CuttableDevice(try fixture.openDevice())
        let store = try await Datastore.mount(device: device, host: HostIdentity(uuid: UUID(), name: "a"), options: options)

        // The link is cut; the next renewal starts and waits. Time passes, half a second at a
        // time, to just short of the lease; nothing reads the store's state meanwhile.
        device.cut()
        func fences() -> [DatastoreEvent] {
            events.withLockedValue { $0.filter { if case .fenced = $0 { true } else { false } } }
        }
        for _ in 0..<15 {
            clock.advance(by: .milliseconds(500))
            try await Task.sleep(for: .milliseconds(30))
        }
        #expect(fences().isEmpty, "fenced before the lease ran out: \(fences())")
        // The lease runs out (8 s since the last renewal, at mount): the watch, looking every
        // quarter interval, declares the fence.
        clock.advance(by: .milliseconds(500))
        let deadline = ContinuousClock.now + .seconds(10)
        while fences().isEmpty && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(fences().count == 1, "no fence declared when the lease ran out: \(events.withLockedValue { $0 })")
        #expect(fences().first?.description.contains("could not renew its heartbeat") == true, "\(fences())")
        // As it fences, the store takes back what the device still holds of its I/O: the
        // renewal held by the cut link fails instead of landing whenever the link returns.
        let revoked = ContinuousClock.now + .seconds(10)
        while device.revocations.withLockedValue({ $0.isEmpty }) && ContinuousClock.now < revoked {
            try await Task.sleep(for: .milliseconds(5))
        }
        let reasons = device.revocations.withLockedValue { $0 }
        #expect(reasons.count == 1 && reasons.first?.contains("could not renew its heartbeat") == true, "\(reasons)")

        // The link heals: the next renewal finds the slot as this host left it, and the fence lifts.
        device.heal()
        let lifted = ContinuousClock.now + .seconds(10)
        while store.state.withLockedValue({ $0.fenceReason }) != nil && ContinuousClock.now < lifted {
            clock.advance(by: .milliseconds(500))
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(store.state.withLockedValue { $0.fenceReason } == nil, "\(events.withLockedValue { $0 })")
        try await store.unmount()
    }
}
