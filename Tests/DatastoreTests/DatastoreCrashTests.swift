// Crash points: stop all writes after the Nth one, at every N of a
// create / allocate / grow / unmap / delete sequence; remount and check each time.

import BlockDevice
@testable import Datastore
import Foundation
import NIOCore
import Testing

@Suite struct DatastoreCrashTests {
    /// The sequence under test; returns normally only if no crash hit it.
    private func workload(_ store: Datastore) async throws {
        try await store.createDisk(name: "a", size: 20 << 20)
        try await store.createDisk(name: "e", size: 1 << 20, kind: .eagerZeroed)
        let disk = try await store.openDisk(name: "a")
        try await disk.write(ByteBuffer(bytes: DatastoreFixture.pattern(200_000, seed: 1)), offset: 17 << 20, fua: true)
        try await disk.write(ByteBuffer(bytes: DatastoreFixture.pattern(65536, seed: 2)), offset: 0, fua: false)
        try await disk.grow(to: 24 << 20)
        try await disk.unmap([BlockRange(lba: 0, blockCount: 128)])
        try await disk.close()
        try await store.deleteDisk(name: "a")
        try await store.growDisk(name: "e", to: 2 << 20)
        try await store.deleteDisk(name: "e")
    }

    @Test func everyCrashPointLeavesAConsistentVolume() async throws {
        // Count the writes of a clean run first.
        let fixture = try await DatastoreFixture(size: 64 << 20, maxHosts: 2, maxDisks: 4)
        let pristine = try Data(contentsOf: URL(fileURLWithPath: fixture.path))
        let counting = CrashingBlockDevice(try FileBlockDevice(path: fixture.path), failAfter: .max)
        let host = UUID()
        let clean = try await fixture.mount("h", uuid: host, device: counting)
        let mountWrites = counting.metadataWrites
        try await workload(clean)
        let total = counting.metadataWrites
        try await clean.unmount()
        #expect(total > mountWrites + 20)

        for limit in mountWrites..<total {
            try pristine.write(to: URL(fileURLWithPath: fixture.path))
            let crashing = CrashingBlockDevice(try FileBlockDevice(path: fixture.path), failAfter: limit)
            let store = try await fixture.mount("h", uuid: host, device: crashing)
            do {
                try await workload(store)
                Issue.record("the workload finished although writes stopped after \(limit)")
            } catch {}
            // Same host identity: the remount reclaims the slot and replays its journal.
            let recovered = try await fixture.mount("h", uuid: host)
            let report = try await recovered.check()
            #expect(report.isClean, "crash after write \(limit): \(report.issues)")
            // And the volume stays usable: the whole sequence runs again on what is left.
            for name in try await recovered.listDisks().map(\.name) { try await recovered.deleteDisk(name: name) }
            try await workload(recovered)
            #expect(try await recovered.check().isClean)
            try await recovered.unmount()
        }
    }
}
