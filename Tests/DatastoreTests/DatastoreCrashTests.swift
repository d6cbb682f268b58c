// Crash points: stop all writes after the Nth one, at every N of a
// create / allocate / sidecar / grow / unmap / delete sequence; remount and check each time.

import BlockDevice
@testable import Datastore
import Foundation
import NIOCore
import Testing

@Suite struct DatastoreCrashTests {
    /// The sequence under test; returns normally only if no crash hit it.
    private func workload(_ store: Datastore) async throws {
        // 20 MiB of 64 KiB blocks: offset 17 MiB lies past the 256 direct pointers.
        try await store.createDisk(name: "a", size: 20 << 20)
        try await store.createDisk(name: "e", size: 1 << 20, kind: .eagerZeroed)
        let disk = try await store.openDisk(name: "a")
        try await disk.write(ByteBuffer(bytes: DatastoreFixture.pattern(200_000, seed: 1)), offset: 17 << 20, fua: true)
        try await disk.write(ByteBuffer(bytes: DatastoreFixture.pattern(65536, seed: 2)), offset: 0, fua: false)
        // The first sidecar allocates and zeroes the disk's sidecar block; the delete frees it.
        try await disk.writeSidecar("inspection/histograms", DatastoreFixture.pattern(5000, seed: 3))
        try await disk.grow(to: 24 << 20)
        try await disk.unmap([BlockRange(lba: 0, blockCount: 128)])
        try await disk.close()
        try await store.deleteDisk(name: "a")
        try await store.growDisk(name: "e", to: 2 << 20)
        try await store.deleteDisk(name: "e")
    }

    @Test func everyCrashPointLeavesAConsistentVolume() async throws {
        // A small volume (8 MiB, 64 KiB blocks, 4 clusters) keeps each of the few hundred
        // rounds cheap; the workload still reaches a pointer block, several clusters,
        // an eager disk, a sidecar block, a grow, an unmap and two deletes.
        let fixture = try await DatastoreFixture(size: 8 << 20, maxHosts: 2, maxDisks: 4, clusterBlocks: 32)
        let pristine = try Data(contentsOf: URL(fileURLWithPath: fixture.path))
        let counting = CrashingBlockDevice(try FileBlockDevice(path: fixture.path), failAfter: .max)
        let host = UUID()
        let clean = try await fixture.mount("h", uuid: host, device: counting)
        let mountWrites = counting.writesSoFar
        try await workload(clean)
        let total = counting.writesSoFar
        try await clean.unmount()
        #expect(total > mountWrites + 20)
        print("crash points: writes \(mountWrites)..<\(total)")

        for limit in mountWrites..<total {
            try pristine.write(to: URL(fileURLWithPath: fixture.path))
            let crashing = CrashingBlockDevice(try FileBlockDevice(path: fixture.path), failAfter: limit)
            let store = try await fixture.mount("h", uuid: host, device: crashing)
            do {
                try await workload(store)
                Issue.record("the workload finished although writes stopped after \(limit)")
            } catch {}
            // The host comes back after its lease with the same identity: the remount
            // reclaims its slot and replays its journal.
            fixture.clock.advance(by: .seconds(17))
            let recovered = try await fixture.mount("h", uuid: host, device: CrashingBlockDevice(try FileBlockDevice(path: fixture.path), failAfter: .max))
            let report = try await recovered.check()
            #expect(report.isClean, "crash after write \(limit): \(report.issues)")
            // And the volume stays usable: what the crash left can be deleted, and a new
            // disk takes blocks from every cluster it needs without tripping on leftovers.
            for name in try await recovered.listDisks().map(\.name) { try await recovered.deleteDisk(name: name) }
            try await recovered.createDisk(name: "after", size: 2 << 20, kind: .eagerZeroed)
            #expect(try await recovered.diskInfo(name: "after").allocatedBlocks == 32, "after crash at write \(limit)")
            try await recovered.unmount()
        }
    }
}
