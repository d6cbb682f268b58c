// Sidecars: small named blobs beside a disk, journaled like the rest of the metadata. Written,
// read, replaced and deleted; bounded with clear errors; deleted with the disk; a damaged one
// named by `check` and by the read; a crash at any write of an update leaves the old or the
// new blob; a volume of format 1.0 still mounts and says why it has no sidecars.

import BlockDevice
@testable import Datastore
import Foundation
import NIOCore
import Testing

@Suite struct SidecarTests {
    private func refused(_ code: DatastoreError.Code, saying words: [String]) -> (any Error) -> Bool {
        { error in
            guard let error = error as? DatastoreError, error.code == code else { return false }
            return words.allSatisfy { error.message.contains($0) }
        }
    }

    @Test func writeReadReplaceAndDeleteSurviveARemount() async throws {
        let fixture = try await DatastoreFixture()
        let store = try await fixture.mount("a")
        try await store.createDisk(name: "vm1", size: 4 << 20)
        let disk = try await store.openDisk(name: "vm1")
        #expect(try await disk.sidecar("inspection/histograms") == nil)
        #expect(try await disk.sidecarNames().isEmpty)
        let first = DatastoreFixture.pattern(10_000, seed: 1)
        try await disk.writeSidecar("inspection/histograms", first)
        #expect(try await disk.sidecar("inspection/histograms") == first)
        // The sidecar block counts as one of the disk's blocks.
        #expect(disk.info.allocatedBlocks == 1)
        let replacement = DatastoreFixture.pattern(300, seed: 2)
        try await disk.writeSidecar("inspection/histograms", replacement)
        try await disk.writeSidecar("cache/map", [])
        try await disk.writeSidecar("encryption/keyslot", DatastoreFixture.pattern(4096, seed: 3))
        #expect(try await disk.sidecar("inspection/histograms") == replacement)
        #expect(try await disk.sidecar("cache/map") == [])
        #expect(try await disk.sidecarNames() == ["cache/map", "encryption/keyslot", "inspection/histograms"])
        try await disk.deleteSidecar("cache/map")
        try await disk.deleteSidecar("never/written")
        #expect(try await disk.sidecar("cache/map") == nil)
        try await disk.close()
        try await store.unmount()

        // Another host (a takeover or a restart) reads what the first left.
        let other = try await fixture.mount("b")
        let reopened = try await other.openDisk(name: "vm1")
        #expect(try await reopened.sidecar("inspection/histograms") == replacement)
        #expect(try await reopened.sidecar("encryption/keyslot") == DatastoreFixture.pattern(4096, seed: 3))
        #expect(try await reopened.sidecarNames() == ["encryption/keyslot", "inspection/histograms"])
        try await reopened.close()
        let report = try await other.check()
        #expect(report.isClean, "\(report.issues)")
        try await other.unmount()
    }

    @Test func limitsAreClearErrors() async throws {
        let fixture = try await DatastoreFixture()
        let store = try await fixture.mount("a")
        try await store.createDisk(name: "vm1", size: 4 << 20)
        let disk = try await store.openDisk(name: "vm1")
        await #expect { try await disk.writeSidecar("big/blob", [UInt8](repeating: 1, count: SidecarDirectory.maximumBlobSize + 1)) } throws: { refused(.invalidArgument, saying: ["'big/blob'", "'vm1'", "at most \(SidecarDirectory.maximumBlobSize)"])($0) }
        for name in ["", String(repeating: "n", count: 65), "bad\nname"] {
            await #expect { try await disk.writeSidecar(name, [1]) } throws: { refused(.invalidArgument, saying: ["sidecar name"])($0) }
        }
        // 64 KiB file blocks: 15 content units. One 8-unit blob fits, a second does not.
        try await disk.writeSidecar("a/one", [UInt8](repeating: 7, count: SidecarDirectory.maximumBlobSize))
        await #expect { try await disk.writeSidecar("a/two", [UInt8](repeating: 8, count: SidecarDirectory.maximumBlobSize)) } throws: { refused(.noSpace, saying: ["sidecar block of disk 'vm1'", "'a/two'"])($0) }
        // Replacing a blob may reuse its own units.
        try await disk.writeSidecar("a/one", [UInt8](repeating: 9, count: SidecarDirectory.maximumBlobSize))
        try await disk.deleteSidecar("a/one")
        // Fifteen one-unit blobs fill the block; empty ones take no unit, up to the count limit.
        for index in 0..<15 {
            try await disk.writeSidecar("n/\(index)", [UInt8(index)])
        }
        await #expect { try await disk.writeSidecar("n/15", [15]) } throws: { refused(.noSpace, saying: ["no 1 free units", "'n/15'"])($0) }
        for index in 15..<SidecarDirectory.maximumCount {
            try await disk.writeSidecar("n/\(index)", [])
        }
        await #expect { try await disk.writeSidecar("n/extra", []) } throws: { refused(.noSpace, saying: ["already has \(SidecarDirectory.maximumCount) sidecars", "'n/extra'"])($0) }
        #expect(try await disk.sidecar("n/14") == [14])
        #expect(try await disk.sidecar("n/31") == [])
        #expect(try await disk.sidecarNames().count == SidecarDirectory.maximumCount)
        try await disk.close()
        // Only the exclusive holder writes: a shared read-only open reads but may not write.
        let reader = try await store.openDisk(name: "vm1", mode: .sharedReadOnly)
        #expect(try await reader.sidecar("n/0") == [0])
        await #expect { try await reader.writeSidecar("n/0", [5]) } throws: { error in
            (error as? BlockDeviceError)?.code == .readOnly
        }
        try await reader.close()
        await #expect { try await reader.sidecar("n/0") } throws: { error in
            (error as? BlockDeviceError)?.code == .closed
        }
        let report = try await store.check()
        #expect(report.isClean, "\(report.issues)")
        try await store.unmount()
    }

    @Test func deletingTheDiskFreesItsSidecarBlock() async throws {
        let fixture = try await DatastoreFixture()
        let store = try await fixture.mount("a")
        try await store.createDisk(name: "vm1", size: 4 << 20)
        let disk = try await store.openDisk(name: "vm1")
        try await disk.write(ByteBuffer(bytes: DatastoreFixture.pattern(65536, seed: 4)), offset: 0, fua: true)
        try await disk.writeSidecar("inspection/histograms", [1, 2, 3])
        let block = try await store.findDisk("vm1").1.sidecarBlock
        #expect(block != 0)
        try await disk.close()
        try await store.deleteDisk(name: "vm1")
        // A leaked sidecar block would show as a block marked allocated that no disk uses.
        let report = try await store.check()
        #expect(report.isClean, "\(report.issues)")
        let bitmap = try Datastore.bitmap(try await store.readUnit(at: store.header.clusterBitmapUnit(store.header.cluster(ofBlock: block))),
                                          cluster: store.header.cluster(ofBlock: block), header: store.header)
        #expect(!bitmap.isAllocated(block))
        // A new disk of the same name starts without sidecars.
        try await store.createDisk(name: "vm1", size: 4 << 20)
        let again = try await store.openDisk(name: "vm1")
        #expect(try await again.sidecar("inspection/histograms") == nil)
        try await again.close()
        try await store.unmount()
    }

    @Test func aDamagedSidecarIsNamedByTheReadAndByCheck() async throws {
        let fixture = try await DatastoreFixture()
        let store = try await fixture.mount("a")
        try await store.createDisk(name: "vm1", size: 4 << 20)
        let disk = try await store.openDisk(name: "vm1")
        try await disk.writeSidecar("keep/me", DatastoreFixture.pattern(100, seed: 5))
        try await disk.writeSidecar("inspection/histograms", DatastoreFixture.pattern(5000, seed: 6))
        let block = try await store.findDisk("vm1").1.sidecarBlock
        let directory = try await store.readSidecarDirectory(try await store.findDisk("vm1").1, index: 0)!
        let entry = directory.entries.first { $0.name == "inspection/histograms" }!
        try DatastoreFixture.scribble(fixture.path, at: block * UInt64(store.fileBlockSize) + UInt64(entry.firstUnit * 4096) + 10, count: 16, seed: 7)
        await #expect { try await disk.sidecar("inspection/histograms") } throws: { refused(.corrupt, saying: ["sidecar 'inspection/histograms'", "disk 'vm1'", "CRC32C"])($0) }
        // The other blob is intact and still readable.
        #expect(try await disk.sidecar("keep/me") == DatastoreFixture.pattern(100, seed: 5))
        var report = try await store.check()
        #expect(report.issues.count == 1, "\(report.issues)")
        #expect(report.issues.contains { $0.kind == .badSidecar && $0.message.contains("sidecar 'inspection/histograms' of disk 'vm1'") }, "\(report.issues)")
        // Repair leaves it alone (a filter's state is not guessed at), and says it is still there.
        try await disk.close()
        report = try await store.check(repair: true)
        #expect(report.issues.contains { $0.kind == .badSidecar }, "\(report.issues)")

        // A damaged directory names the disk too, and every read says so.
        try DatastoreFixture.scribble(fixture.path, at: block * UInt64(store.fileBlockSize) + 70, count: 16, seed: 8)
        report = try await store.check()
        #expect(report.issues.contains { $0.kind == .badSidecar && $0.message.contains("sidecar directory of disk 'vm1'") }, "\(report.issues)")
        let reopened = try await store.openDisk(name: "vm1")
        await #expect { try await reopened.sidecar("keep/me") } throws: { refused(.corrupt, saying: ["sidecar directory of disk 'vm1'"])($0) }
        await #expect { try await reopened.writeSidecar("keep/me", [1]) } throws: { refused(.corrupt, saying: ["sidecar directory of disk 'vm1'"])($0) }
        try await reopened.close()
        try await store.unmount()
    }

    /// A directory whose checksum is good but whose entries cannot be true is refused as
    /// corrupt, naming the disk: overlapping or out-of-area units, too many entries, another
    /// disk's identity, a blob larger than the limit, a name twice.
    @Test func impossibleDirectoriesAreRefused() throws {
        let uuid = UUID()
        func entry(_ name: String, _ length: Int, at first: Int) -> SidecarDirectory.Entry {
            SidecarDirectory.Entry(name: name, length: length, firstUnit: first, crc: 0)
        }
        func decode(_ directory: SidecarDirectory, uuid decodeUUID: UUID? = nil) throws -> SidecarDirectory {
            try SidecarDirectory.decode(directory.encoded(), disk: "vm1", index: 3, uuid: decodeUUID ?? uuid, block: 40, areaUnits: 16)
        }
        var good = SidecarDirectory(diskIndex: 3, block: 40, diskUUID: uuid)
        good.entries = [entry("a/x", 5000, at: 1), entry("b/y", 0, at: 0), entry("c/z", 4096, at: 3)]
        #expect(try decode(good) == good)
        let impossible: [(String, [SidecarDirectory.Entry])] = [
            ("overlapping units", [entry("a/x", 5000, at: 1), entry("b/y", 100, at: 2)]),
            ("past the area", [entry("a/x", 8192, at: 15)]),
            ("unit 0, the directory", [entry("a/x", 10, at: 0)]),
            ("too large", [entry("a/x", SidecarDirectory.maximumBlobSize + 1, at: 1)]),
            ("a name twice", [entry("a/x", 1, at: 1), entry("a/x", 1, at: 2)]),
        ]
        for (what, entries) in impossible {
            var bad = good
            bad.entries = entries
            #expect(throws: DatastoreError.self, "\(what)") { try decode(bad) }
            do { _ = try decode(bad) } catch let error as DatastoreError {
                #expect(error.code == .corrupt && error.message.contains("sidecar directory of disk 'vm1' (file block 40) has an impossible entry"), "\(what): \(error)")
            }
        }
        var many = good
        many.entries = (0...SidecarDirectory.maximumCount).map { entry("n/\($0)", 0, at: 0) }
        #expect(throws: DatastoreError.self) { try decode(many) }
        #expect(throws: DatastoreError.self) { try decode(good, uuid: UUID()) }
        var unit = good.encoded()
        unit.setBytes([0xFF], at: 100)
        #expect { try SidecarDirectory.decode(unit, disk: "vm1", index: 3, uuid: uuid, block: 40, areaUnits: 16) } throws: { error in
            (error as? DatastoreError)?.message == "sidecar directory of disk 'vm1' (file block 40) failed its CRC32C check"
        }
    }

    /// Stops all writes after the Nth of an update (open, replace a 6-unit blob with a 7-unit
    /// one, close) at every N; after each crash the host comes back, replays its journal, and
    /// the blob reads as exactly the old or exactly the new content.
    @Test func aCrashAtAnyWriteOfAnUpdateLeavesTheOldOrTheNewBlob() async throws {
        let fixture = try await DatastoreFixture(size: 8 << 20, maxHosts: 2, maxDisks: 4, clusterBlocks: 32)
        let old = DatastoreFixture.pattern(6 * 4096 - 100, seed: 10)
        let new = DatastoreFixture.pattern(7 * 4096 - 50, seed: 11)
        let setup = try await fixture.mount("setup")
        try await setup.createDisk(name: "vm1", size: 2 << 20)
        let first = try await setup.openDisk(name: "vm1")
        // b/other takes unit 1 and a/state units 2–7; the new a/state (7 units) goes to units
        // 2–8, over its own old content: only the journal keeps that all-or-nothing.
        try await first.writeSidecar("b/other", [42])
        try await first.writeSidecar("a/state", old)
        try await first.close()
        try await setup.unmount()
        let pristine = try Data(contentsOf: URL(fileURLWithPath: fixture.path))

        func update(_ store: Datastore) async throws {
            let disk = try await store.openDisk(name: "vm1")
            try await disk.writeSidecar("a/state", new)
            try await disk.close()
        }
        let host = UUID()
        let counting = CrashingBlockDevice(try FileBlockDevice(path: fixture.path), failAfter: .max)
        let clean = try await fixture.mount("h", uuid: host, device: counting)
        let mountWrites = counting.writesSoFar
        try await update(clean)
        let total = counting.writesSoFar
        try await clean.unmount()
        #expect(total > mountWrites + 3)
        let placed = try await clean.readSidecarDirectory(try await clean.findDisk("vm1").1, index: 0)?.entries.first { $0.name == "a/state" }
        #expect(placed?.units == 2..<9, "\(placed.map { "\($0.units)" } ?? "none")")

        var outcomes: [String: Int] = [:]
        for limit in mountWrites..<total {
            try pristine.write(to: URL(fileURLWithPath: fixture.path))
            let store = try await fixture.mount("h", uuid: host, device: CrashingBlockDevice(try FileBlockDevice(path: fixture.path), failAfter: limit))
            do {
                try await update(store)
                Issue.record("the update finished although writes stopped after \(limit)")
            } catch {}
            fixture.clock.advance(by: .seconds(17))
            let recovered = try await fixture.mount("h", uuid: host, device: CrashingBlockDevice(try FileBlockDevice(path: fixture.path), failAfter: .max))
            let report = try await recovered.check()
            #expect(report.isClean, "crash after write \(limit): \(report.issues)")
            let disk = try await recovered.openDisk(name: "vm1")
            let content = try await disk.sidecar("a/state")
            #expect(content == old || content == new, "crash after write \(limit): the blob is neither the old nor the new content")
            outcomes[content == new ? "new" : "old", default: 0] += 1
            #expect(try await disk.sidecar("b/other") == [42], "crash after write \(limit)")
            try await disk.close()
            try await recovered.unmount()
        }
        // Both sides of the commit point were reached.
        #expect(outcomes["old", default: 0] > 0 && outcomes["new", default: 0] > 0, "\(outcomes)")
        print("sidecar crash points \(mountWrites)..<\(total): \(outcomes)")
    }

    /// A volume formatted before sidecars (1.0) mounts and works; it has no sidecars, and a
    /// write says why instead of changing its format behind older hosts' backs.
    @Test func aVersion10VolumeMountsAndRefusesSidecarsClearly() async throws {
        let fixture = try await DatastoreFixture()
        let device = try FileBlockDevice(path: fixture.path)
        for (offset, backup) in [(UInt64(0), false), (UInt64(256 << 20) - 4096, true)] {
            var header = try VolumeHeader.decode(try await device.read(at: offset / 512, blockCount: 1), where: "header", deviceSize: 256 << 20)
            #expect(header.minorVersion == 1)
            #expect(header.isBackup == backup)
            header.minorVersion = 0
            try await device.write(header.encoded(), at: offset / 512, fua: true)
        }
        try await device.close()
        let store = try await fixture.mount("a")
        #expect(store.header.minorVersion == 0)
        try await store.createDisk(name: "vm1", size: 4 << 20)
        let disk = try await store.openDisk(name: "vm1")
        try await disk.write(ByteBuffer(bytes: DatastoreFixture.pattern(4096, seed: 12)), offset: 0, fua: true)
        #expect(try await disk.sidecar("inspection/histograms") == nil)
        await #expect { try await disk.writeSidecar("inspection/histograms", [1]) } throws: { refused(.unsupportedVersion, saying: ["format version 1.0", "needs version 1.1", "'vm1'"])($0) }
        try await disk.close()
        let report = try await store.check()
        #expect(report.isClean, "\(report.issues)")
        try await store.unmount()
    }
}
