// Two hosts on one volume: separate allocations, lock conflicts, lease-bound takeover, fencing.

import BlockDevice
@testable import Datastore
import Foundation
import NIOCore
import Testing

/// Every test runs in both lock modes: ATS (COMPARE AND WRITE on the image file) and
/// SCSI-3 persistent reservations (an emulated target without COMPARE AND WRITE).
@Suite struct DatastoreClusterTests {
    @Test(arguments: LockMode.allCases)
    func twoHostsWriteTheirOwnDisksWithoutOverlap(lockMode: LockMode) async throws {
        let fixture = try await DatastoreFixture(lockMode: lockMode)
        let a = try await fixture.mount("host-a")
        let b = try await fixture.mount("host-b")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (store, name) in [(a, "disk-a"), (b, "disk-b")] {
                group.addTask {
                    try await store.createDisk(name: name, size: 24 << 20)
                    let disk = try await store.openDisk(name: name)
                    for round in 0..<24 {
                        try await disk.write(ByteBuffer(bytes: DatastoreFixture.pattern(70_000, seed: UInt64(round))), offset: UInt64(round) << 20, fua: false)
                    }
                    try await disk.close()
                }
            }
            try await group.waitForAll()
        }
        var owners: [UInt64: String] = [:]
        for (name, index) in [("disk-a", 0), ("disk-b", 1)] {
            _ = index
            let (_, descriptor) = try await a.findDisk(name)
            for block in try await a.walkMap(descriptor, tolerant: false).data.map(\.physical) {
                #expect(owners[block] == nil, "block \(block) used by \(owners[block] ?? "") and \(name)")
                owners[block] = name
            }
        }
        #expect(owners.count >= 48)
        try await b.unmount()
        let report = try await a.check()
        #expect(report.isClean, "\(report.issues)")
        try await a.unmount()
    }

    @Test(arguments: LockMode.allCases)
    func openingAHeldDiskNamesTheHolderAndWaitsForTheLease(lockMode: LockMode) async throws {
        let fixture = try await DatastoreFixture(lockMode: lockMode)
        let clockA = ManualDatastoreClock()
        let clockB = ManualDatastoreClock()
        let a = try await fixture.mount("host-a", clock: clockA)
        let b = try await fixture.mount("host-b", clock: clockB)
        try await a.createDisk(name: "vm1", size: 16 << 20)
        let held = try await a.openDisk(name: "vm1")
        try await held.write(ByteBuffer(bytes: DatastoreFixture.pattern(4096, seed: 1)), offset: 0, fua: true)

        await #expect { try await b.openDisk(name: "vm1") } throws: { error in
            let error = error as? DatastoreError
            return error?.code == .locked && error!.message.contains("locked by host 'host-a'") && error!.message.contains("since")
        }
        // A renews: no amount of B's time makes A look dead.
        for _ in 0..<6 {
            clockA.advance(by: .seconds(3))
            clockB.advance(by: .seconds(3))
            try await a.renewHeartbeat()
            try await b.renewHeartbeat()
            await #expect(throws: DatastoreError.self) { try await b.openDisk(name: "vm1") }
        }
        // A stops renewing (killed). Before a full lease of B's observation, the lock stands.
        for _ in 0..<5 {
            clockB.advance(by: .seconds(3))
            try await b.renewHeartbeat()
        }
        await #expect { try await b.openDisk(name: "vm1") } throws: { error in
            (error as? DatastoreError)?.message.contains("can be broken after") == true
        }
        clockB.advance(by: .seconds(2))
        try await b.renewHeartbeat()
        let taken = try await b.openDisk(name: "vm1")
        #expect(Array(try await taken.read(offset: 0, length: 4096).readableBytesView) == DatastoreFixture.pattern(4096, seed: 1))
        try await taken.write(ByteBuffer(bytes: [9, 9]), offset: 0, fua: true)

        if let target = fixture.reservationTarget {
            // Reservation mode fences at the target too: A's registration is gone.
            #expect(!target.registeredKeys().contains(a.host.reservationKey))
            #expect(target.registeredKeys().contains(b.host.reservationKey))
        }
        // A wakes up with its old generation: its renewal fails (a miscompare under ATS; a
        // lost registration under reservations), and it cannot write.
        let why = lockMode == .ats ? "generation" : "lost its reservation key"
        await #expect { try await a.renewHeartbeat() } throws: { error in
            (error as? DatastoreError)?.code == .fenced && (error as? DatastoreError)?.message.contains(why) == true
        }
        await #expect { try await held.write(ByteBuffer(bytes: [1]), offset: 0, fua: false) } throws: { error in
            let error = error as? BlockDeviceError
            return error?.code == .fenced && error!.message.contains(why)
        }
        try await taken.close()
        let report = try await b.check()
        #expect(report.isClean, "\(report.issues)")
        try await b.unmount()
    }

    @Test(arguments: LockMode.allCases)
    func aHostThatCannotRenewWithinItsLeaseFencesItself(lockMode: LockMode) async throws {
        let fixture = try await DatastoreFixture(lockMode: lockMode)
        let clock = ManualDatastoreClock()
        let a = try await fixture.mount("host-a", clock: clock)
        try await a.createDisk(name: "d", size: 4 << 20)
        let disk = try await a.openDisk(name: "d")
        clock.advance(by: .seconds(10))
        try await disk.write(ByteBuffer(bytes: [1]), offset: 0, fua: false)
        clock.advance(by: .seconds(7))
        await #expect { try await disk.write(ByteBuffer(bytes: [1]), offset: 0, fua: false) } throws: { error in
            let error = error as? BlockDeviceError
            return error?.code == .fenced && error!.message.contains("could not renew its heartbeat")
        }
        await #expect(throws: DatastoreError.self) { try await a.createDisk(name: "e", size: 1 << 20) }
    }

    @Test(arguments: LockMode.allCases)
    func sharedReadOnlyOpensCoexistAndBlockWriters(lockMode: LockMode) async throws {
        let fixture = try await DatastoreFixture(lockMode: lockMode)
        let a = try await fixture.mount("host-a")
        let b = try await fixture.mount("host-b")
        try await a.createDisk(name: "gold", size: 4 << 20)
        let ra = try await a.openDisk(name: "gold", mode: .sharedReadOnly)
        let rb = try await b.openDisk(name: "gold", mode: .sharedReadOnly)
        await #expect(throws: DatastoreError.self) { try await a.deleteDisk(name: "gold") }
        try await ra.close()
        await #expect(throws: DatastoreError.self) { try await a.openDisk(name: "gold", mode: .exclusive) }
        try await rb.close()
        let writer = try await a.openDisk(name: "gold", mode: .exclusive)
        try await writer.close()
        try await a.unmount()
        try await b.unmount()
    }
}
