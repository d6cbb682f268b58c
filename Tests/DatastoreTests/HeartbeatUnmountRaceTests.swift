// A heartbeat renewal still in flight when the host unmounts: the renewal lands first, then
// the unmount frees the slot. Freeing it against the image the renewal replaced would fail its
// compare and leave the slot live (found on LIO, whose slow answers widen the window).

import BlockDevice
import Datastore
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// Holds the first COMPARE AND WRITE after `arm()` until another one arrives (or 2 s pass), then
/// lets the held one land first and the newcomer after it: the order a slow target gives a
/// renewal sent just before an unmount's swap of the same sector.
private final class RenewalHoldingDevice: ForwardingBlockDevice {
    let base: any BlockDevice
    private let state = NIOLockedValueBox(State())

    private struct State {
        var armed = false
        var holding = false
        var released = false
        var heldLanded = false
    }

    init(_ base: any BlockDevice) { self.base = base }

    func arm() { state.withLockedValue { $0.armed = true } }
    var isHolding: Bool { state.withLockedValue { $0.holding } }

    func compareAndWrite(at lba: UInt64, expected: ByteBuffer, replacement: ByteBuffer) async throws {
        let holds = state.withLockedValue { state -> Bool in
            guard state.armed else { return false }
            state.armed = false
            state.holding = true
            return true
        }
        if holds {
            defer { state.withLockedValue { $0.heldLanded = true; $0.holding = false } }
            // An I/O sent is not called back by cancelling the task that sent it: the wait runs
            // in a task of its own, which the unmount's cancel of the heartbeat task cannot end.
            // Bounded: released by the next COMPARE AND WRITE, or after 2 s.
            await Task { [state] in
                let deadline = ContinuousClock.now + .seconds(2)
                while !state.withLockedValue({ $0.released }) && ContinuousClock.now < deadline {
                    try? await Task.sleep(for: .milliseconds(2))
                }
            }.value
            try await base.compareAndWrite(at: lba, expected: expected, replacement: replacement)
            return
        }
        let waitForHeld = state.withLockedValue { state -> Bool in
            guard state.holding else { return false }
            state.released = true
            return true
        }
        if waitForHeld {
            // Bounded: the held one lands within its own 2 s bound plus one write.
            let deadline = ContinuousClock.now + .seconds(5)
            while !state.withLockedValue({ $0.heldLanded }) && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(2))
            }
        }
        try await base.compareAndWrite(at: lba, expected: expected, replacement: replacement)
    }
}

@Suite(.timeLimit(.minutes(1))) struct HeartbeatUnmountRaceTests {
    @Test func anUnmountDuringARenewalStillFreesTheSlot() async throws {
        let fixture = try await DatastoreFixture()
        var options = fixture.options()
        options.clock = SystemDatastoreClock()
        options.runsHeartbeatTask = true
        options.heartbeatInterval = .milliseconds(50)
        let device = RenewalHoldingDevice(try fixture.openDevice())
        let store = try await Datastore.mount(device: device, host: HostIdentity(uuid: UUID(), name: "a"), options: options)

        // The next renewal is held in flight; the unmount starts while it is.
        device.arm()
        let deadline = ContinuousClock.now + .seconds(10)
        while !device.isHolding && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        try #require(device.isHolding, "no renewal was sent within 10 s")
        let outcome = try await store.unmount()
        #expect(outcome == .clean, "\(outcome)")

        // Another host finds no live slot: the unmount freed it after the renewal landed.
        let other = try await fixture.mount("b")
        let hosts = try await other.hosts()
        #expect(hosts.map(\.hostName) == ["b"], "slots still live after host a unmounted: \(hosts)")
        try await other.unmount()
    }
}
