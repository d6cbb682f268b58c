// The Paths layer over real tgtd sessions on loopback: two paths (two sessions, two I_T nexuses)
// to one LUN. tgtd drops a path's connection, deletes the LUN, stops and comes back; a path that
// leads to another LUN is refused.

import BlockDevice
import Foundation
import ISCSI
import ISCSIAddress
import NIOConcurrencyHelpers
import NIOCore
import Paths
import SCSI
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(5)))
struct MultipathTgtTests {
    static let iqn = "iqn.2026-12.org.vdiskd.test:multipath"
    static let otherIQN = "iqn.2026-12.org.vdiskd.test:multipath-other"

    /// A native path to `iqn` on `tgt`: recovery off (the Paths layer replaces the session), a
    /// 1 s / 1 s NOP keepalive, one ISID for the path's life.
    static func path(_ name: String, _ tgt: TgtTarget, iqn: String = MultipathTgtTests.iqn, lun: Int = 1) throws -> PathConfiguration {
        try NativePath.configuration(name, try ISCSITargetURL(parsing: tgt.url(iqn, lun: lun)), keepalive: .seconds(1), loginTimeout: .seconds(5))
    }

    static func options(_ policy: PathPolicy, apd: Duration = .seconds(140)) -> MultipathOptions {
        var options = MultipathOptions()
        options.policy = policy
        options.probeInterval = .seconds(1)
        options.apdTimeout = apd
        return options
    }

    static func configuration(luns: Int = 1) -> TgtConfiguration {
        TgtConfiguration(targets: [
            TgtTargetSpec(iqn: iqn, luns: [.file(1, size: 32 << 20)]),
            TgtTargetSpec(iqn: otherIQN, luns: [.file(1, size: 32 << 20)]),
        ])
    }

    static func waitUntil(_ limit: Duration, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    @Test func aDroppedPathsCommandsMoveToTheOtherPathWithoutAnError() async throws {
        try await withTgt(Self.configuration()) { tgt in
            let device = try await MultipathDevice.open(
                name: "lun", paths: [try Self.path("a", tgt), try Self.path("b", tgt)],
                options: Self.options(.roundRobin(ios: 16, bytes: 1 << 30))
            )
            defer { Task { try? await device.close() } }
            let tid = try #require(tgt.tid(of: Self.iqn))
            let stop = NIOLockedValueBox(false)
            let load = Task { await MultipathLoad.run(device, limit: 4000, shouldStop: { stop.withLockedValue { $0 } }) }
            try await Task.sleep(for: .milliseconds(700))
            // Drop one of the two sessions' connections, twice over the run.
            for _ in 0..<2 {
                let connections = try await tgt.connections(tid: tid)
                let victim = try #require(connections.first)
                try await tgt.tgtadm(["--lld", "iscsi", "--op", "delete", "--mode", "conn", "--tid", String(tid), "--sid", String(victim.sid), "--cid", String(victim.cid)])
                try await Task.sleep(for: .seconds(2))
            }
            stop.withLockedValue { $0 = true }
            let report = await load.value
            #expect(report.operations > 500, "\(report)")
            #expect(report.errors.isEmpty, "\(report)")
            #expect(report.miscompares.isEmpty, "\(report)")
            #expect(report.longestStall < .seconds(3), "\(report)")
            let snapshot = device.snapshot
            #expect(snapshot.paths.reduce(0) { $0 + $1.counters.failures } >= 2, "\(snapshot.paths.map(\.reason))")
            #expect(snapshot.paths.allSatisfy { $0.counters.reads + $0.counters.writes > 0 }, "both paths carried I/O")
            // The prober brings the dropped path back.
            #expect(await Self.waitUntil(.seconds(10)) { device.snapshot.paths.allSatisfy { $0.state == .active } }, "\(device.snapshot.paths.map(\.reason))")
        }
    }

    @Test func roundRobinSharesCommandsInTheSwitchSettingsProportion() async throws {
        try await withTgt(Self.configuration()) { tgt in
            let device = try await MultipathDevice.open(
                name: "lun", paths: [try Self.path("a", tgt), try Self.path("b", tgt)],
                options: Self.options(.roundRobin(ios: 10, bytes: 1 << 30))
            )
            defer { Task { try? await device.close() } }
            let block = TestPattern.bytes(seed: 3, count: 512)
            for index in 0..<200 { try await device.write(block, at: UInt64(index)) }
            let counts = device.snapshot.paths.map { $0.counters.writes }
            // One at a time, switching every 10: exactly half each.
            #expect(counts == [100, 100], "\(counts)")
            try device.setPolicy(.mostRecentlyUsed)
            for index in 0..<50 { try await device.write(block, at: UInt64(index)) }
            let after = device.snapshot.paths.map { $0.counters.writes }
            #expect(after.reduce(0, +) == 250 && after.contains { $0 == 100 }, "MRU sticks to one path: \(after)")
        }
    }

    @Test func aPathToAnotherLUNIsRefusedAndTheGoodPathsCarryOn() async throws {
        try await withTgt(Self.configuration()) { tgt in
            let device = try await MultipathDevice.open(
                name: "lun", paths: [try Self.path("good", tgt), try Self.path("wrong", tgt, iqn: Self.otherIQN), try Self.path("good2", tgt)],
                options: Self.options(.roundRobin(ios: 1, bytes: 1 << 30))
            )
            defer { Task { try? await device.close() } }
            let wrong = try #require(device.snapshot.paths.first { $0.name == "wrong" })
            #expect(wrong.state == .dead)
            #expect(wrong.reason.contains("different logical unit"), "\(wrong.reason)")
            let block = TestPattern.bytes(seed: 4, count: 512)
            for index in 0..<20 { try await device.write(block, at: UInt64(index)) }
            let writes = device.snapshot.paths.map { $0.counters.writes }
            #expect(writes == [10, 0, 10], "\(writes)")
        }
    }

    @Test func deletingTheLUNFailsIOAtOnceAsDeviceLoss() async throws {
        try await withTgt(Self.configuration()) { tgt in
            let device = try await MultipathDevice.open(
                name: "lun", paths: [try Self.path("a", tgt), try Self.path("b", tgt)],
                options: Self.options(.roundRobin(ios: 1, bytes: 1 << 30))
            )
            defer { Task { try? await device.close() } }
            let tid = try #require(tgt.tid(of: Self.iqn))
            _ = try await device.read(at: 0, blockCount: 1)
            try await tgt.tgtadm(["--lld", "iscsi", "--op", "delete", "--mode", "logicalunit", "--tid", String(tid), "--lun", "1"])
            let started = ContinuousClock.now
            var caught: BlockDeviceError?
            do { _ = try await device.read(at: 0, blockCount: 1) } catch let error as BlockDeviceError { caught = error }
            #expect(ContinuousClock.now - started < .seconds(1))
            #expect(caught?.code == .deviceLost, "\(String(describing: caught))")
            #expect("\(String(describing: caught))".contains("device lost"))
            let again = ContinuousClock.now
            await #expect(throws: BlockDeviceError.self) { try await device.write(TestPattern.bytes(seed: 1, count: 512), at: 0) }
            #expect(ContinuousClock.now - again < .milliseconds(200), "later commands fail at once")
            #expect(device.snapshot.health == .deviceLost)

            // The LUN comes back: nothing happens by itself; an explicit reopen serves it again.
            let file = try #require(tgt.target(Self.iqn)?.lun(1)?.backingFile)
            try await tgt.tgtadm(["--lld", "iscsi", "--op", "new", "--mode", "logicalunit", "--tid", String(tid), "--lun", "1", "-b", file])
            try await Task.sleep(for: .seconds(2))
            #expect(device.snapshot.health == .deviceLost, "device loss is not undone by the prober")
            await device.reopen()
            #expect(await Self.waitUntil(.seconds(10)) { device.snapshot.health == .optimal }, "\(device.snapshot.paths.map(\.reason))")
            let block = TestPattern.bytes(seed: 8, count: 512)
            try await device.write(block, at: 5)
            #expect(try await device.read(at: 5, blockCount: 1) == block)
        }
    }

    @Test func everyPathDownWaitsForAReturningPathThenFailsAtTheAPDTimeout() async throws {
        try await withTgt(Self.configuration()) { tgt in
            let apd = Duration.seconds(4)
            let device = try await MultipathDevice.open(
                name: "lun", paths: [try Self.path("a", tgt), try Self.path("b", tgt)],
                options: Self.options(.mostRecentlyUsed, apd: apd)
            )
            defer { Task { try? await device.close() } }
            let block = TestPattern.bytes(seed: 9, count: 512)
            try await device.write(block, at: 7)

            // Down for less than the timeout: the write waits, then lands.
            await tgt.crash()
            let shortOutage = Task { try await device.write(block, at: 8) }
            try await Task.sleep(for: .seconds(2))
            try await tgt.restart()
            try await shortOutage.value
            #expect(try await device.read(at: 8, blockCount: 1) == block)

            // Down for longer: the error comes at the timeout (from the last good I/O), ± 1 s.
            _ = try await device.read(at: 7, blockCount: 1)
            let lastGood = ContinuousClock.now
            await tgt.crash()
            var failure: BlockDeviceError?
            do { try await device.write(block, at: 9) } catch let error as BlockDeviceError { failure = error }
            let waited = ContinuousClock.now - lastGood
            #expect(failure?.code == .transport, "\(String(describing: failure))")
            #expect("\(String(describing: failure))".contains("all paths down"))
            #expect(waited > apd - .seconds(1) && waited < apd + .seconds(1), "failed after \(waited)")
            #expect(device.snapshot.health == .allPathsDownTimedOut)

            // The target returns: the device comes back by itself.
            try await tgt.restart()
            #expect(await Self.waitUntil(.seconds(10)) { device.snapshot.health == .optimal }, "\(device.snapshot.paths.map(\.reason))")
            try await device.write(block, at: 9)
            #expect(try await device.read(at: 9, blockCount: 1) == block)
        }
    }
}

extension MultipathTgtTests {
    /// A registration covers every path's nexus; a reservation made through one path is released
    /// even after that path is gone (by preempting this host's own key from another path).
    @Test func reservationKeysCoverEveryPathAndAReleaseOutlivesItsHoldersPath() async throws {
        try await withTgt(Self.configuration()) { tgt in
            let device = try await MultipathDevice.open(
                name: "lun", paths: [try Self.path("a", tgt), try Self.path("b", tgt)],
                options: Self.options(.mostRecentlyUsed)
            )
            defer { Task { try? await device.close() } }
            let key: UInt64 = 0x7664_6973_6b64_0001
            try await device.persistentReserveOut(.registerAndIgnoreExistingKey(newKey: key))
            #expect(try await device.readReservationKeys().keys == [key, key], "one registration per path's I_T nexus")

            try await device.persistentReserveOut(.reserve(key: key, type: .writeExclusiveRegistrantsOnly))
            #expect(try await device.readReservation().holder?.key == key)
            let holder = try #require(device.snapshot.paths.first { $0.selected }?.name)
            // The holder's session goes away (an operator, a dead link); its nexus still holds the reservation.
            try await device.setEnabled(false, path: holder)
            try await device.write(TestPattern.bytes(seed: 5, count: 512), at: 3)
            try await device.persistentReserveOut(.release(key: key, type: .writeExclusiveRegistrantsOnly))
            #expect(try await device.readReservation().holder == nil, "released from the other path")
            #expect(try await device.readReservationKeys().keys.contains(key), "still registered through the path in use")
            try await device.setEnabled(true, path: holder)
            #expect(await Self.waitUntil(.seconds(10)) { device.snapshot.paths.allSatisfy { $0.state == .active } })
            #expect(try await device.readReservationKeys().keys == [key, key], "the path that came back registered again")
        }
    }
}
