// Reservation-mode behaviour only tgt shows: a reservation outlives the session of a host
// that died holding it, and the other hosts must preempt it before their own leases end.

import BlockDevice
@testable import Datastore
import Foundation
import NIOCore
import SCSI
import Testing

@Suite(.timeLimit(.minutes(2)))
struct DatastoreReservationIntegrationTests {
    @Test func aHostThatDiedHoldingTheReservationIsPreemptedWithinTheLease() async throws {
        try await RealTarget.tgt.withLUN(size: 128 << 20) { lun in
            try await lun.format()
            let b = try await ClusterHost.mount(lun, name: "host-b")
            #expect(b.store.lockMode == .reservations)
            let holdLimit = b.store.reservationHoldLimit
            let lease = b.store.options.lease
            #expect(holdLimit < lease - b.store.options.heartbeatInterval * 2)

            // Host X registers and reserves, as at the start of a lock update, and its session ends.
            let dead = try await lun.connect()
            let key: UInt64 = 0xDEAD_0000_0000_0001
            try await dead.persistentReserveOut(.registerAndIgnoreExistingKey(newKey: key))
            // B holds the reservation itself for a moment at each heartbeat; X retries then, as a
            // host does (bounded: 100 tries, 50 ms apart).
            var reserved = false
            for _ in 0..<100 where !reserved {
                do {
                    try await dead.persistentReserveOut(.reserve(key: key, type: .writeExclusiveRegistrantsOnly))
                    reserved = true
                } catch let error as BlockDeviceError where error.code == .reservationConflict {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            try #require(reserved, "host X never got the reservation between B's heartbeats")
            try await dead.close()
            #expect(try await b.device.readReservation().holder?.key == key, "tgt dropped the reservation with the session")

            // B's heartbeat task keeps renewing through it: after more than a lease B is not fenced,
            // and X's registration is gone.
            try await Task.sleep(for: lease + .seconds(1))
            #expect(b.store.fenceReason == nil, "\(b.store.fenceReason ?? "")")
            #expect(try await !b.device.readReservationKeys().keys.contains(key))
            #expect(try await b.device.readReservation().holder?.key != key)

            // Locks work again: B creates, opens and writes a disk.
            try await b.store.createDisk(name: "after", size: 1 << 20)
            let disk = try await b.store.openDisk(name: "after")
            try await disk.write(TestBytes.buffer(4096, seed: 3), offset: 0, fua: true)
            #expect(try await disk.read(offset: 0, length: 4096) == TestBytes.buffer(4096, seed: 3))
            try await disk.close()
            try await b.leave()
        }
    }
}
