// The datastore's lock tests on real targets, one body for both lock modes: the format
// probe picks ATS on istgt and reservations on tgt, and the same rules must hold.

import BlockDevice
@testable import Datastore
import Foundation
import ISCSI
import NIOCore
import Testing

// LIO's cases may wait for the shared guest's first boot: minutes on a busy machine.
@Suite(.timeLimit(.minutes(10)))
struct DatastoreLockIntegrationTests {
    /// Two hosts, each on its own session, create, open and write their own disks at the
    /// same time; the other host's disk is refused while it is open.
    @Test(arguments: RealTarget.allCases)
    func twoHostsWriteTheirOwnDisksAtOnce(target: RealTarget) async throws {
        try await target.withLUN(size: 256 << 20) { lun in
            let info = try await lun.format()
            #expect(info.lockMode == (target.expectedLockMode == .ats ? "ats" : "reservations"))
            let a = try await ClusterHost.mount(lun, name: "host-a")
            let b = try await ClusterHost.mount(lun, name: "host-b")
            #expect(a.store.lockMode == target.expectedLockMode)
            #expect(a.device.capabilities.contains(.compareAndWrite) == (target.expectedLockMode == .ats))
            #expect(a.store.slot != b.store.slot)

            // 24 pieces of 70,000 bytes one MiB apart: each crosses a 64 KiB block boundary,
            // so both hosts allocate all along, and meet on cluster locks when they overflow.
            let rounds = 24
            @Sendable func piece(_ host: String, _ round: Int) -> ByteBuffer {
                TestBytes.buffer(70_000, seed: UInt64(round) << 8 | (host == "a" ? 1 : 2))
            }
            async let createdA = a.store.createDisk(name: "disk-a", size: 24 << 20)
            async let createdB = b.store.createDisk(name: "disk-b", size: 24 << 20)
            _ = try await (createdA, createdB)
            async let openedA = a.store.openDisk(name: "disk-a")
            async let openedB = b.store.openDisk(name: "disk-b")
            let (diskA, diskB) = try await (openedA, openedB)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (disk, host) in [(diskA, "a"), (diskB, "b")] {
                    group.addTask {
                        for round in 0..<rounds {
                            try await disk.write(piece(host, round), offset: UInt64(round) << 20, fua: round % 4 == 0)
                        }
                        try await disk.flush()
                    }
                }
                try await group.waitForAll()
            }

            // Each host reaching for the other's open disk is refused, naming the holder and the time.
            for (intruder, disk, holder) in [(b, "disk-a", "host-a"), (a, "disk-b", "host-b")] {
                let error = try await #require(throws: DatastoreError.self) {
                    try await intruder.store.openDisk(name: disk, mode: .sharedReadOnly)
                }
                #expect(error.code == .locked)
                #expect(error.message.contains("is locked by host '\(holder)'"), "\(error.message)")
                let since = try #require(error.message.range(of: #"since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"#, options: .regularExpression), "\(error.message)")
                let stamp = String(error.message[since].dropFirst(6))
                let date = try #require(ISO8601DateFormatter().date(from: stamp), "\(stamp)")
                #expect(abs(date.timeIntervalSinceNow) < 120, "lock time \(stamp) is not about now")
            }

            // Both read back; no physical block serves two disks.
            for (disk, host) in [(diskA, "a"), (diskB, "b")] {
                for round in 0..<rounds {
                    let back = try await disk.read(offset: UInt64(round) << 20, length: 70_000)
                    #expect(back == piece(host, round), "disk-\(host) round \(round)")
                }
            }
            var owners: [UInt64: String] = [:]
            for name in ["disk-a", "disk-b"] {
                let (_, descriptor) = try await a.store.findDisk(name)
                let walk = try await a.store.walkMap(descriptor, tolerant: false)
                for block in walk.data.map(\.physical) + walk.pointerBlocks.map(\.block) {
                    #expect(owners[block] == nil, "file block \(block) is used by \(owners[block] ?? "") and \(name)")
                    owners[block] = name
                }
            }
            // 70,000 bytes starting on a MiB boundary span two 64 KiB blocks per round.
            #expect(owners.values.filter { $0 == "disk-a" }.count >= 2 * rounds)
            #expect(owners.values.filter { $0 == "disk-b" }.count >= 2 * rounds)

            try await diskA.close()
            try await diskB.close()
            try await b.leave()
            let report = try await a.store.check()
            #expect(report.isClean, "\(report.issues)")
            #expect(try await a.store.locks().isEmpty)
            try await a.leave()
        }
    }

    /// A held disk stays locked while its holder renews and for a lease after it stops;
    /// then the lock is broken, and the old holder can neither renew nor write.
    /// Manual clocks make the lease exact; the I/O is real.
    @Test(arguments: RealTarget.allCases)
    func aSilentHoldersLockIsBrokenAfterTheLeaseAndNotBefore(target: RealTarget) async throws {
        try await target.withLUN(size: 128 << 20) { lun in
            try await lun.format()
            let clockA = ManualDatastoreClock()
            let clockB = ManualDatastoreClock()
            let a = try await ClusterHost.mount(lun, name: "host-a", options: ClusterHost.fastOptions(clock: clockA))
            let b = try await ClusterHost.mount(lun, name: "host-b", options: ClusterHost.fastOptions(clock: clockB))
            #expect(a.store.lockMode == target.expectedLockMode)
            try await a.store.createDisk(name: "vm1", size: 16 << 20)
            let held = try await a.store.openDisk(name: "vm1")
            let acknowledged = TestBytes.buffer(8192, seed: 11)
            try await held.write(acknowledged, offset: 4096, fua: true)

            let lease = b.store.options.lease
            let interval = b.store.options.heartbeatInterval
            // A renews: however long B watches, A is alive.
            for _ in 0..<6 {
                clockA.advance(by: interval)
                clockB.advance(by: interval)
                try await a.store.renewHeartbeat()
                try await b.store.renewHeartbeat()
                await #expect(throws: DatastoreError.self) { try await b.store.openDisk(name: "vm1") }
            }
            // A goes silent. Short of a lease of B's observation, the lock stands.
            clockB.advance(by: lease - .milliseconds(500))
            try await b.store.renewHeartbeat()
            let early = try await #require(throws: DatastoreError.self) { try await b.store.openDisk(name: "vm1") }
            #expect(early.code == .locked)
            #expect(early.message.contains("can be broken after"), "\(early.message)")
            // A full lease: B breaks it, and A's acknowledged write is there.
            clockB.advance(by: .seconds(1))
            try await b.store.renewHeartbeat()
            let taken = try await b.store.openDisk(name: "vm1")
            #expect(b.store.recoveries.map(\.hostName) == ["host-a"])
            #expect(try await taken.read(offset: 4096, length: 8192) == acknowledged)
            try await taken.write(TestBytes.buffer(512, seed: 12), offset: 0, fua: true)

            if target.expectedLockMode == .reservations {
                // The target itself fences A: B preempted its registration.
                let keys = try await b.device.readReservationKeys().keys
                #expect(!keys.contains(a.store.host.reservationKey))
                #expect(keys.contains(b.store.host.reservationKey))
            }
            // A wakes with its old generation: its renewal fails and so does every write.
            let why = target.expectedLockMode == .ats ? "generation" : "lost its reservation key"
            let renewal = try await #require(throws: DatastoreError.self) { try await a.store.renewHeartbeat() }
            #expect(renewal.code == .fenced)
            #expect(renewal.message.contains(why), "\(renewal.message)")
            let write = try await #require(throws: BlockDeviceError.self) {
                try await held.write(TestBytes.buffer(512, seed: 13), offset: 0, fua: true)
            }
            #expect(write.code == .fenced)
            #expect(try await taken.read(offset: 0, length: 512) == TestBytes.buffer(512, seed: 12))

            try await taken.close()
            await a.vanish()
            let report = try await b.store.check()
            #expect(report.isClean, "\(report.issues)")
            try await b.leave()
        }
    }
}
