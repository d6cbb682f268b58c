// The fence rule: a host fences only when another host acted on its heartbeat slot. A target
// that forgets every reservation key (tgt restarting) or a slot that moved on under the host's
// own generation is repaired; a bumped or recovering slot fences, once, and says so.

import BlockDevice
@testable import Datastore
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing

@Suite struct FenceRuleTests {
    private static let host = HostIdentity(uuid: UUID(), name: "host-a")

    /// Host A holding vm1 open, its events recorded, and host B beside it, each on a clock of
    /// its own: how every "A stops renewing, B takes over" test here begins.
    private struct TakeoverScene {
        let a: Datastore
        let b: Datastore
        let held: VirtualDisk
        let clockA: ManualDatastoreClock
        let clockB: ManualDatastoreClock
        let events: NIOLockedValueBox<[DatastoreEvent]>

        static func start(_ fixture: DatastoreFixture) async throws -> TakeoverScene {
            let events = NIOLockedValueBox<[DatastoreEvent]>([])
            let clockA = ManualDatastoreClock()
            let clockB = ManualDatastoreClock()
            var options = fixture.options(clock: clockA)
            options.eventObserver = { event in events.withLockedValue { $0.append(event) } }
            let a = try await Datastore.mount(device: fixture.openDevice(), host: FenceRuleTests.host, options: options)
            let b = try await fixture.mount("host-b", clock: clockB)
            try await a.createDisk(name: "vm1", size: 4 << 20)
            let held = try await a.openDisk(name: "vm1")
            return TakeoverScene(a: a, b: b, held: held, clockA: clockA, clockB: clockB, events: events)
        }

        /// The fence events A reported so far.
        var fences: [DatastoreEvent] {
            events.withLockedValue { $0 }.filter { if case .fenced = $0 { true } else { false } }
        }

        /// B sees A's heartbeat stand still for a lease of its own clock, breaks the lock and opens vm1.
        func takeOver() async throws -> VirtualDisk {
            for _ in 0..<6 {
                clockB.advance(by: .seconds(3))
                try await b.renewHeartbeat()
            }
            return try await b.openDisk(name: "vm1")
        }
    }

    private static func record(_ state: HeartbeatRecord.State, generation: UInt64, uuid: UUID = host.uuid) -> HeartbeatRecord {
        var record = HeartbeatRecord(slot: 0)
        record.state = state
        record.hostUUID = uuid
        record.hostName = "someone"
        record.generation = generation
        return record
    }

    @Test func theVerdictFencesOnlyWhenTheSlotNoLongerCarriesThisMount() {
        #expect(Datastore.verdict(on: Self.record(.live, generation: 7), host: Self.host, generation: 7) == .ours)
        let cases: [(HeartbeatRecord?, String)] = [
            (Self.record(.live, generation: 8), "bumped"),
            (Self.record(.recovering, generation: 8), "replaying its journal"),
            (Self.record(.free, generation: 8), "bumped"),
            (Self.record(.free, generation: 7), "freed"),
            (Self.record(.live, generation: 7, uuid: UUID()), "bumped"),
            (nil, "unreadable"),
        ]
        for (record, phrase) in cases {
            let verdict = Datastore.verdict(on: record, host: Self.host, generation: 7)
            guard case .takenOver(let what) = verdict else {
                Issue.record("\(String(describing: record)) was judged ours")
                continue
            }
            #expect(what.contains(phrase), "\(what)")
        }
    }

    @Test func aTargetThatForgetsEveryKeyDoesNotFenceHealthyHosts() async throws {
        let fixture = try await DatastoreFixture(lockMode: .reservations)
        let target = try #require(fixture.reservationTarget)
        let events = NIOLockedValueBox<[DatastoreEvent]>([])
        var options = fixture.options(clock: ManualDatastoreClock())
        options.eventObserver = { event in events.withLockedValue { $0.append(event) } }
        let a = try await Datastore.mount(device: fixture.openDevice(), host: Self.host, options: options)
        let b = try await fixture.mount("host-b", clock: ManualDatastoreClock())
        try await a.createDisk(name: "vm1", size: 4 << 20)
        let disk = try await a.openDisk(name: "vm1")
        try await disk.write(ByteBuffer(bytes: DatastoreFixture.pattern(8192, seed: 1)), offset: 0, fua: true)

        target.forgetRegistrations()
        // B renews first: its RESERVE conflicts, it finds its slot its own and registers again.
        try await b.renewHeartbeat()
        #expect(b.reRegistrations == 1)
        // While B holds the reservation (as during a lock update), A's data write meets
        // RESERVATION CONFLICT, registers A again, and lands.
        try await b.device.persistentReserveOut(.reserve(key: b.host.reservationKey, type: Datastore.reservationType))
        try await disk.write(ByteBuffer(bytes: DatastoreFixture.pattern(8192, seed: 2)), offset: 0, fua: true)
        try await b.device.persistentReserveOut(.release(key: b.host.reservationKey, type: Datastore.reservationType))
        #expect(a.reRegistrations == 1)
        try await a.renewHeartbeat()
        #expect(a.fenceReason == nil)
        #expect(b.fenceReason == nil)
        #expect(Set(target.registeredKeys()) == [a.host.reservationKey, b.host.reservationKey])
        #expect(Array(try await disk.read(offset: 0, length: 8192).readableBytesView) == DatastoreFixture.pattern(8192, seed: 2))
        let seen = events.withLockedValue { $0 }
        #expect(seen.count == 1, "\(seen)")
        #expect(seen.first?.description.contains("registered it again") == true, "\(seen)")
        try await disk.close()
        try await a.unmount()
        try await b.unmount()
    }

    /// Where in host A's thin allocation the target restarts and host B, first to speak
    /// again, registers and reserves for a lock update.
    enum RestartPoint: String, CaseIterable, Sendable {
        /// The WRITE of A's journal transaction.
        case journalWrite
        /// A SYNCHRONIZE CACHE of A's metadata transaction.
        case metadataFlush
        /// The WRITE of A's journal, after the target kept A's key for a session A has since
        /// replaced: READ KEYS lists it, the session's commands are refused (tgt 1.0.85).
        case journalWriteOfAReplacedSession
    }

    /// The journal, its flushes and the home-unit writes go out as a registrant like data
    /// writes do: the target forgot A's key while B holds the reservation, so the command
    /// meets RESERVATION CONFLICT once, registers A again and is sent again; the same when the
    /// key is still listed for a session A has replaced. It never reaches the caller as an
    /// error and nothing fences.
    @Test(arguments: RestartPoint.allCases)
    func aTargetRestartAtAMetadataCommandRegistersAgainInsteadOfFailingIt(at point: RestartPoint) async throws {
        let fixture = try await DatastoreFixture(lockMode: .reservations)
        let target = try #require(fixture.reservationTarget)
        let a = try await fixture.mount("host-a", clock: ManualDatastoreClock())
        let b = try await fixture.mount("host-b", clock: ManualDatastoreClock())
        try await a.createDisk(name: "vm1", size: 4 << 20)
        let disk = try await a.openDisk(name: "vm1")
        let nexusA = try #require(a.device as? ReservingBlockDevice).nexus
        let nexusB = try #require(b.device as? ReservingBlockDevice).nexus
        let sector = UInt64(a.sectorSize)
        let journalStart = a.header.journalStart(slot: a.slot) / sector
        let journal = journalStart..<(journalStart + UInt64(a.header.journalUnits) * UInt64(VolumeLayout.unitSize) / sector)
        let keyB = b.host.reservationKey
        let restarted = NIOLockedValueBox(false)
        target.beforeWrite.withLockedValue { hook in
            hook = { nexus, lba in
                guard nexus == nexusA else { return }
                let here = switch point {
                case .journalWrite, .journalWriteOfAReplacedSession: lba.map { journal.contains($0) } ?? false
                case .metadataFlush: lba == nil
                }
                let first = here && restarted.withLockedValue { done in
                    defer { done = true }
                    return !done
                }
                guard first else { return }
                if point == .journalWriteOfAReplacedSession {
                    target.replaceSession(of: nexusA, whileReserving: nexusB, type: Datastore.reservationType)
                } else {
                    target.restartAndReserve(for: nexusB, key: keyB, type: Datastore.reservationType)
                }
                // B's lock update ends a moment later, as one does, and A's next RESERVE gets through.
                Task {
                    try await Task.sleep(for: .milliseconds(200))
                    try target.reserveOut(.release(key: keyB, type: Datastore.reservationType), nexus: nexusB)
                }
            }
        }
        defer { target.beforeWrite.withLockedValue { $0 = nil } }

        // A writes where vm1 has no block yet: a thin allocation, one metadata transaction.
        let data = DatastoreFixture.pattern(64 << 10, seed: 5)
        try await disk.write(ByteBuffer(bytes: data), offset: 1 << 20, fua: true)
        #expect(restarted.withLockedValue { $0 }, "the allocation never reached the \(point)")
        #expect(a.reRegistrations == 1)
        #expect(a.fenceReason == nil)
        #expect(Set(target.registeredKeys()) == [a.host.reservationKey, keyB])
        #expect(target.refusedWrites == 1, "A's \(point) was refused \(target.refusedWrites) times")

        try await a.renewHeartbeat()
        try await b.renewHeartbeat()
        #expect(a.fenceReason == nil)
        #expect(b.fenceReason == nil)
        #expect(Array(try await disk.read(offset: 1 << 20, length: data.count).readableBytesView) == data)
        try await disk.close()
        let report = try await b.check()
        #expect(report.isClean, "\(report.issues)")
        try await a.unmount()
        try await b.unmount()
    }

    @Test func aPreemptedHostStillFencesOnceAndSaysWhoActed() async throws {
        let fixture = try await DatastoreFixture(lockMode: .reservations)
        let scene = try await TakeoverScene.start(fixture)
        let (a, b, held) = (scene.a, scene.b, scene.held)
        // A stops renewing; after a lease of B's observation B breaks the lock, bumping A's
        // generation and then preempting its key.
        let taken = try await scene.takeOver()
        #expect(b.recoveries.count == 1)
        await #expect { try await a.renewHeartbeat() } throws: { error in
            let error = error as? DatastoreError
            return error?.code == .fenced && error!.message.contains("lost its reservation key") && error!.message.contains("was bumped")
        }
        await #expect { try await held.write(ByteBuffer(bytes: [1]), offset: 0, fua: false) } throws: { error in
            (error as? BlockDeviceError)?.code == .fenced
        }
        #expect(a.reRegistrations == 0)
        let fences = scene.fences
        #expect(fences.count == 1, "\(fences)")
        // Shutting down, A leaves what B took over alone and says so.
        let outcome = try await a.unmount()
        guard case .fencedLeftToTakeover(let what) = outcome else {
            Issue.record("a host whose slot was taken over unmounted as \(outcome)")
            return
        }
        #expect(what.contains("left to the host that took them over"), "\(what)")
        try await taken.close()
        try await b.unmount()
    }

    @Test(arguments: LockMode.allCases)
    func aHostFencedOnItsLeaseCleansUpWhatNobodyTookOver(lockMode: LockMode) async throws {
        let fixture = try await DatastoreFixture(lockMode: lockMode)
        let clock = ManualDatastoreClock()
        let a = try await fixture.mount("host-a", clock: clock)
        try await a.createDisk(name: "vm1", size: 4 << 20)
        let disk = try await a.openDisk(name: "vm1")
        clock.advance(by: .seconds(17))
        await #expect(throws: BlockDeviceError.self) { try await disk.write(ByteBuffer(bytes: [1]), offset: 0, fua: false) }
        #expect(a.fenceReason?.contains("could not renew") == true)
        let outcome = try await a.unmount()
        guard case .fencedCleanedUp(let what) = outcome else {
            Issue.record("a host fenced on its lease alone unmounted as \(outcome)")
            return
        }
        #expect(what.contains("released 1 of 1 disk lock(s) and freed heartbeat slot"), "\(what)")
        // Nothing is left to wait for: another host opens the disk at once, and A's slot is free.
        let b = try await fixture.mount("host-b", clock: ManualDatastoreClock())
        let taken = try await b.openDisk(name: "vm1")
        #expect(b.recoveries.isEmpty)
        #expect(try await b.hosts().filter { $0.state == "live" }.map(\.hostName) == ["host-b"])
        try await taken.close()
        try await b.unmount()
    }

    @Test(arguments: LockMode.allCases)
    func aLeaseFenceIsLiftedByARenewalThatFindsTheSlotUntouched(lockMode: LockMode) async throws {
        let fixture = try await DatastoreFixture(lockMode: lockMode)
        let events = NIOLockedValueBox<[DatastoreEvent]>([])
        let clock = ManualDatastoreClock()
        var options = fixture.options(clock: clock)
        options.eventObserver = { event in events.withLockedValue { $0.append(event) } }
        let a = try await Datastore.mount(device: fixture.openDevice(), host: Self.host, options: options)
        try await a.createDisk(name: "vm1", size: 4 << 20)
        let disk = try await a.openDisk(name: "vm1")
        // Paused past its lease: I/O stops.
        clock.advance(by: .seconds(17))
        await #expect { try await disk.write(ByteBuffer(bytes: [1]), offset: 0, fua: false) } throws: { error in
            (error as? BlockDeviceError)?.code == .fenced
        }
        // Its renewal still finds the slot as it left it: nobody acted, I/O goes on.
        try await a.renewHeartbeat()
        #expect(a.fenceReason == nil)
        try await disk.write(ByteBuffer(bytes: [2]), offset: 0, fua: true)
        let seen = events.withLockedValue { $0 }
        guard seen.count == 2, case .fenced(let why) = seen[0], case .resumed(let how) = seen[1] else {
            Issue.record("expected a fence and its lifting: \(seen)")
            return
        }
        #expect(why.contains("could not renew"))
        #expect(how.contains("generation intact"))
        try await disk.close()
        try await a.unmount()
    }

    @Test(arguments: LockMode.allCases)
    func aLeaseFenceBecomesFinalWhenAnotherHostTookOverMeanwhile(lockMode: LockMode) async throws {
        let fixture = try await DatastoreFixture(lockMode: lockMode)
        let scene = try await TakeoverScene.start(fixture)
        let (a, b, held) = (scene.a, scene.b, scene.held)
        scene.clockA.advance(by: .seconds(17))
        #expect(a.fenceReason?.contains("could not renew") == true)
        let taken = try await scene.takeOver()
        await #expect { try await a.renewHeartbeat() } throws: { error in
            (error as? DatastoreError)?.code == .fenced && (error as? DatastoreError)?.message.contains("was bumped") == true
        }
        #expect(a.fenceReason?.contains("was bumped") == true, "\(a.fenceReason ?? "")")
        // Final now: another renewal does not lift it.
        await #expect(throws: DatastoreError.self) { try await a.renewHeartbeat() }
        await #expect(throws: BlockDeviceError.self) { try await held.write(ByteBuffer(bytes: [1]), offset: 0, fua: false) }
        let fences = scene.fences
        #expect(fences.count == 2, "the lease fence, then the takeover: \(fences)")
        try await taken.close()
        try await b.unmount()
    }

    @Test(arguments: LockMode.allCases)
    func aSlotThatMovedOnUnderItsOwnGenerationIsAdoptedAndABumpedOneFences(lockMode: LockMode) async throws {
        let fixture = try await DatastoreFixture(lockMode: lockMode)
        let a = try await fixture.mount("host-a")
        let lba = a.header.heartbeatUnit(slot: a.slot) / UInt64(a.sectorSize)
        // A renewal that landed although its answer was lost: the slot is ahead of what A expects.
        var record = a.state.withLockedValue { $0.heartbeat }
        record.counter += 5
        try await a.device.write(record.encoded(sectorSize: a.sectorSize), at: lba, fua: true)
        try await a.renewHeartbeat()
        #expect(a.fenceReason == nil)
        #expect(a.state.withLockedValue { $0.heartbeat.counter } == record.counter + 1)

        record.generation += 1
        try await a.device.write(record.encoded(sectorSize: a.sectorSize), at: lba, fua: true)
        await #expect { try await a.renewHeartbeat() } throws: { error in
            (error as? DatastoreError)?.code == .fenced && (error as? DatastoreError)?.message.contains("was bumped") == true
        }
        #expect(a.fenceReason?.contains("generation") == true)
    }
}
