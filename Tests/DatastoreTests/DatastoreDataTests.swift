// Data written through virtual disks comes back byte for byte, holes read zeros, thin stays thin.

import BlockDevice
import Datastore
import Foundation
import NIOCore
import Testing

@Suite struct DatastoreDataTests {
    @Test(arguments: [DiskKind.thin, .eagerZeroed])
    func randomWritesReadBackAfterRemount(kind: DiskKind) async throws {
        let fixture = try await DatastoreFixture()
        let hostID = UUID()
        let size: UInt64 = 40 << 20
        var model = [UInt8](repeating: 0, count: Int(size))
        do {
            let store = try await fixture.mount("a", uuid: hostID)
            try await store.createDisk(name: "disk", size: size, kind: kind)
            let disk = try await store.openDisk(name: "disk")
            for round in 0..<60 {
                let seed = UInt64(round + 1)
                let offset = Int(DatastoreFixture.pattern(8, seed: seed).withUnsafeBytes { $0.load(as: UInt32.self) } % UInt32(size - (300 << 10)))
                let length = 1 + Int(DatastoreFixture.pattern(4, seed: seed + 1000).withUnsafeBytes { $0.load(as: UInt16.self) }) * 4
                let data = DatastoreFixture.pattern(length, seed: seed + 5000)
                try await disk.write(ByteBuffer(bytes: data), offset: UInt64(offset), fua: round % 3 == 0)
                model.replaceSubrange(offset..<offset + length, with: data)
            }
            try await disk.flush()
            let whole = try await disk.read(offset: 0, length: Int(size))
            #expect(Array(whole.readableBytesView) == model)
            try await disk.close()
            try await store.unmount()
        }
        let store = try await fixture.mount("a", uuid: hostID)
        let disk = try await store.openDisk(name: "disk", mode: .sharedReadOnly)
        let whole = try await disk.read(offset: 0, length: Int(size))
        #expect(Array(whole.readableBytesView) == model)
        await #expect(throws: BlockDeviceError.self) { try await disk.write(ByteBuffer(bytes: [1]), offset: 0, fua: false) }
        try await disk.close()
        let report = try await store.check()
        #expect(report.isClean, "\(report.issues)")
        try await store.unmount()
    }

    @Test func unwrittenRangesReadZerosAndUnmapFreesBlocks() async throws {
        let fixture = try await DatastoreFixture()
        let store = try await fixture.mount("a")
        try await store.createDisk(name: "thin", size: 32 << 20)
        let disk = try await store.openDisk(name: "thin")
        #expect(try await disk.read(offset: 0, length: 1 << 20).readableBytesView.allSatisfy { $0 == 0 })
        try await disk.write(ByteBuffer(bytes: DatastoreFixture.pattern(256 << 10, seed: 9)), offset: 100_000, fua: false)
        let afterWrite = disk.info.allocatedBlocks
        #expect(afterWrite == 5)  // 100000 ... 362144 touches 64 KiB blocks 1...5
        try await disk.unmap([BlockRange(lba: 0, blockCount: UInt32((1 << 20) / 512))])
        #expect(disk.info.allocatedBlocks < afterWrite)
        #expect(try await disk.read(offset: 0, length: 1 << 20).readableBytesView.allSatisfy { $0 == 0 })
        try await disk.close()
        let report = try await store.check()
        #expect(report.isClean, "\(report.issues)")
        try await store.unmount()
    }

    @Test func lbaStatusFollowsTheBlockMap() async throws {
        let fixture = try await DatastoreFixture()
        let store = try await fixture.mount("a")
        try await store.createDisk(name: "thin", size: 4 << 20)
        let disk = try await store.openDisk(name: "thin")
        // 64 KiB file blocks are 128 blocks of 512 bytes; the disk has 8192 blocks.
        var status = try await disk.provisioningStatus(at: 0, limit: 8192)
        #expect(status == (false, 8192))
        // 1000 bytes at block 300 allocate file block 2 (blocks 256...383) only.
        try await disk.write(ByteBuffer(bytes: DatastoreFixture.pattern(1000, seed: 3)), offset: 300 * 512, fua: false)
        status = try await disk.provisioningStatus(at: 0, limit: 8192)
        #expect(status == (false, 256))
        status = try await disk.provisioningStatus(at: 300, limit: 8192)
        #expect(status == (true, 84))
        status = try await disk.provisioningStatus(at: 384, limit: 100)
        #expect(status == (false, 100))
        status = try await disk.provisioningStatus(at: 384, limit: 8192)
        #expect(status == (false, 8192 - 384))
        // Unmapping the whole file block deallocates it; part of one leaves it mapped.
        try await disk.unmap([BlockRange(lba: 256, blockCount: 128)])
        status = try await disk.provisioningStatus(at: 0, limit: 8192)
        #expect(status == (false, 8192))
        try await disk.write(ByteBuffer(bytes: DatastoreFixture.pattern(512, seed: 4)), offset: 0, fua: false)
        try await disk.unmap([BlockRange(lba: 0, blockCount: 1)])
        status = try await disk.provisioningStatus(at: 0, limit: 8192)
        #expect(status == (true, 128))
        await #expect(throws: BlockDeviceError.self) { try await disk.provisioningStatus(at: 8192, limit: 1) }
        try await disk.close()
        try await store.unmount()
    }

    @Test func growRenameDeleteAndPointerBlocks() async throws {
        let fixture = try await DatastoreFixture()
        let store = try await fixture.mount("a")
        try await store.createDisk(name: "d", size: 8 << 20)
        let disk = try await store.openDisk(name: "d")
        try await disk.grow(to: 64 << 20)
        #expect(disk.geometry.byteCount == 64 << 20)
        // Past 256 direct pointers of 64 KiB (16 MiB): this needs a single-indirect pointer block.
        let data = DatastoreFixture.pattern(200_000, seed: 4)
        try await disk.write(ByteBuffer(bytes: data), offset: 40 << 20, fua: true)
        #expect(Array(try await disk.read(offset: 40 << 20, length: data.count).readableBytesView) == data)
        try await disk.close()
        try await store.renameDisk(name: "d", to: "e")
        #expect(try await store.listDisks().map(\.name) == ["e"])
        try await store.growDisk(name: "e", to: 96 << 20)
        #expect(try await store.diskInfo(name: "e").size == 96 << 20)
        try await store.deleteDisk(name: "e")
        #expect(try await store.listDisks().isEmpty)
        let report = try await store.check()
        #expect(report.isClean, "\(report.issues)")
        try await store.unmount()
    }

    @Test func terabyteThinDiskIsQuickAndSmall() async throws {
        let fixture = try await DatastoreFixture(size: 2 << 40, fileBlockSize: 1 << 20, maxHosts: 8, maxDisks: 64, clusterBlocks: 8192)
        var before = stat()
        stat(fixture.path, &before)
        let store = try await fixture.mount("a")
        let start = ContinuousClock.now
        try await store.createDisk(name: "big", size: 1 << 40)
        let elapsed = ContinuousClock.now - start
        var after = stat()
        stat(fixture.path, &after)
        // The proof that a thin create does no work in proportion to its size is the space: it
        // wrote less than 1 MiB for 1 TiB. Its time alone is about 0.05 s, but in the full
        // parallel suite its few fsyncs queue behind every other test's I/O and took 2-5 s, so
        // the time is only a guard against a create that walks the disk (minutes at 1 TiB).
        #expect((after.st_blocks - before.st_blocks) * 512 < 1 << 20)
        #expect(elapsed < .seconds(10), "creating a 1 TiB thin disk took \(elapsed)")
        let disk = try await store.openDisk(name: "big")
        // Data near the end goes through single-indirect pointer blocks at 1 MiB file blocks.
        try await disk.write(ByteBuffer(bytes: [1, 2, 3, 4]), offset: (1 << 40) - 4, fua: false)
        #expect(Array(try await disk.read(offset: (1 << 40) - 8, length: 8).readableBytesView) == [0, 0, 0, 0, 1, 2, 3, 4])
        try await disk.close()
        try await store.unmount()
    }
}
