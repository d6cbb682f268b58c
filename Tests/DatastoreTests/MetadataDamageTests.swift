// Damaged fields with good checksums on a whole volume: each once trapped the daemon (found
// while writing FuzzDatastoreMetadata); now mount, check and info name the damage instead.

import BlockDevice
@testable import Datastore
import Foundation
import NIOCore
import TestSupport
import Testing

@Suite struct MetadataDamageTests {
    /// Writes `bytes` at `offset` inside the unit at `unit` of the image, then reseals the
    /// unit's CRC32C at `crcOffset`, as a buggy host (not bit rot) would leave it.
    private func patch(_ path: String, unit: UInt64, at offset: Int, _ bytes: [UInt8], crcOffset: Int) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: unit)
        var buffer = ByteBuffer(bytes: try handle.read(upToCount: VolumeLayout.unitSize) ?? Data())
        buffer.setBytes(bytes, at: offset)
        buffer.sealCRC(at: crcOffset)
        try handle.seek(toOffset: unit)
        try handle.write(contentsOf: Data(buffer.readableBytesView))
    }

    private func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian, Array.init)
    }

    private func header(_ fixture: DatastoreFixture) async throws -> VolumeHeader {
        let device = try fixture.openDevice()
        let (header, _) = try await Datastore.readHeader(device: device)
        try await device.close()
        return header
    }

    @Test(arguments: [(176, UInt64.max), (168, UInt64.max), (184, UInt64(0))])
    func impossibleCountsInBothHeadersAreRefused(field: Int, value: UInt64) async throws {
        let fixture = try await DatastoreFixture()
        let header = try await header(fixture)
        for copy in [0, header.backupOffset] {
            try patch(fixture.path, unit: copy, at: field, le(value), crcOffset: VolumeLayout.recordCRCOffset)
        }
        await #expect { try await fixture.mount("a") } throws: { error in
            let error = error as? DatastoreError
            return error?.code == .corrupt && error!.message.hasPrefix("both volume headers are unusable: the primary volume header describes an impossible layout")
        }
    }

    @Test func bitsPastAShortLastClusterAreNamed() async throws {
        let fixture = try await DatastoreFixture(size: 100 << 20, clusterBlocks: 8)
        let header = try await header(fixture)
        let last = Int(header.clusterCount) - 1
        let count = header.endDataBlock - header.firstDataBlock - UInt64(last) * UInt64(header.clusterBlocks)
        try #require(count % 8 != 0, "the fixture's last cluster must be short for this test")
        // All eight bits of the last byte set: count % 8 of them stand for blocks, the rest for none.
        try patch(fixture.path, unit: header.clusterBitmapUnit(last), at: 32 + Int(count / 8), [0xFF], crcOffset: VolumeLayout.unitCRCOffset)
        let message = "bitmap of resource cluster \(last) marks blocks past its last block \(header.endDataBlock - 1)"
        await #expect { _ = try await Datastore.info(device: try fixture.openDevice(), countingFreeBlocks: true) } throws: { error in
            (error as? DatastoreError)?.message == message
        }
        let store = try await fixture.mount("a")
        let report = try await store.check()
        #expect(report.issues.contains { $0.kind == .badChecksum && $0.message == message })
        try await store.unmount()
    }

    @Test func anExhaustedGenerationIsSkippedAtMountAndNamedByCheck() async throws {
        let fixture = try await DatastoreFixture()
        let header = try await header(fixture)
        let record = HeartbeatRecord(slot: 0, state: .live, hostName: "ghost", generation: UInt64.max)
        try patch(fixture.path, unit: header.heartbeatUnit(slot: 0), at: 0, Array(record.encoded(sectorSize: 512).readableBytesView),
                  crcOffset: VolumeLayout.recordCRCOffset)
        let store = try await fixture.mount("a")
        #expect(store.slot == 1)
        let report = try await store.check()
        #expect(report.issues.contains { $0.message == "heartbeat slot 0 has an impossible generation 18446744073709551615" })
        try await store.unmount()
    }

    @Test func anExhaustedJournalSequenceRefusesTheMount() async throws {
        let fixture = try await DatastoreFixture()
        let uuid = UUID()
        try await fixture.mount("a", uuid: uuid).unmount()
        let header = try await header(fixture)
        let journal = JournalTransaction.encodedJournalHeader(slot: 0, appliedSequence: UInt64.max)
        try patch(fixture.path, unit: header.journalStart(slot: 0), at: 0, Array(journal.readableBytesView), crcOffset: VolumeLayout.recordCRCOffset)
        await #expect { try await fixture.mount("a", uuid: uuid) } throws: { error in
            (error as? DatastoreError)?.message == "journal header of host slot 0 has an impossible applied sequence 18446744073709551615"
        }
    }

    @Test func countersAtTheirMaximumWrapInsteadOfTrapping() async throws {
        let fixture = try await DatastoreFixture()
        let uuid = UUID()
        let first = try await fixture.mount("a", uuid: uuid)
        try await first.createDisk(name: "d", size: 1 << 20)
        try await first.unmount()
        let header = try await header(fixture)
        // The heartbeat counter (offset 104), the lock's change counter (8) and the descriptor's (320).
        try patch(fixture.path, unit: header.heartbeatUnit(slot: 0), at: 104, le(UInt64.max), crcOffset: VolumeLayout.recordCRCOffset)
        try patch(fixture.path, unit: header.descriptorLockUnit(0), at: 0, Array(LockRecord(changeCounter: UInt64.max).encoded(sectorSize: 512).readableBytesView),
                  crcOffset: VolumeLayout.recordCRCOffset)
        try patch(fixture.path, unit: header.descriptorUnit(0), at: 320, le(UInt64.max), crcOffset: VolumeLayout.unitCRCOffset)
        let store = try await fixture.mount("a", uuid: uuid)
        let disk = try await store.openDisk(name: "d")
        try await disk.write(ByteBuffer(repeating: 7, count: 4096), offset: 0, fua: true)
        #expect(try await disk.read(offset: 0, length: 4096) == ByteBuffer(repeating: 7, count: 4096))
        try await disk.close()
        try await store.renewHeartbeat()
        #expect(try await store.check().isClean)
        try await store.unmount()
    }

    @Test func formatRefusesAJournalTooSmallForOneTransaction() async throws {
        let directory = TemporaryDirectory("small-journal")
        let device = try FileBlockDevice.create(path: directory.file("ds.img"), byteCount: 64 << 20)
        var options = FormatOptions(label: "small")
        options.fileBlockSize = 64 << 10
        options.journalUnits = 10
        await #expect { try await Datastore.format(device: device, options: options) } throws: { error in
            let error = error as? DatastoreError
            return error?.code == .invalidArgument && error?.message == "journal units 10 must be 16...256"
        }
        try await device.close()
    }

    @Test func aPointerBlockNamedManyTimesIsReadOnce() async throws {
        let fixture = try await DatastoreFixture()
        let store = try await fixture.mount("a")
        // Logical block 256 + 128 × 8144 is the first one under double-indirect root 0.
        let firstDouble = UInt64(256 + 128 * 8144) * UInt64(store.fileBlockSize)
        try await store.createDisk(name: "big", size: firstDouble + (1 << 20))
        let disk = try await store.openDisk(name: "big")
        try await disk.write(ByteBuffer(repeating: 1, count: 4096), offset: firstDouble, fua: true)
        try await disk.close()
        let (_, descriptor) = try await store.findDisk("big")
        let root = descriptor.double[0]
        let child = try await store.loadPage(pointerBlock: root, pageIndex: 0).pointers[0]
        // Every entry of the root's first page names the same child: 509 parents of one block.
        let page = PointerPage(pageIndex: 0, ownerBlock: root, pointers: [UInt64](repeating: child, count: VolumeLayout.pointersPerPage))
        try await store.writeBytes(page.encoded(), at: root * UInt64(store.fileBlockSize))
        let report = try await store.check()
        // Each repeat of the child is one double allocation; the child's own entries are listed
        // once (read 509 times, its data block was reported 508 more times).
        let doubles = report.issues.filter { $0.kind == .doubleAllocated }
        #expect(doubles.count == VolumeLayout.pointersPerPage - 1)
        #expect(doubles.allSatisfy { $0.message.hasPrefix("file block ") && $0.message.hasSuffix("is used by disk 'big' and by disk 'big'") })
        try await store.unmount()
    }
}
