// A metadata transaction whose journal record write fails (a write error that is neither a
// lost connection nor a fence) is retired: its sequence is marked applied in the journal
// header and its resource-cluster locks go, so no host is kept off those clusters and no
// replay can apply it later.

import BlockDevice
@testable import Datastore
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// Fails, once armed, the first write that reaches `region` (LBAs), with a medium error.
private final class JournalFailingDevice: ForwardingBlockDevice {
    let base: any BlockDevice
    private let armed = NIOLockedValueBox<Range<UInt64>?>(nil)
    private let failures = NIOLockedValueBox(0)

    init(_ base: any BlockDevice) { self.base = base }

    func failNextWrite(in region: Range<UInt64>) { armed.withLockedValue { $0 = region } }
    var failed: Int { failures.withLockedValue { $0 } }

    func write(_ data: ByteBuffer, at lba: UInt64, fua: Bool) async throws {
        let blocks = UInt64(data.readableBytes / geometry.blockSize)
        let hit = armed.withLockedValue { region -> Bool in
            guard let target = region, target.overlaps(lba..<(lba + blocks)) else { return false }
            region = nil
            return true
        }
        if hit {
            failures.withLockedValue { $0 += 1 }
            throw BlockDeviceError(.mediumError, "write at LBA \(lba) failed on purpose (test)")
        }
        try await base.write(data, at: lba, fua: fua)
    }
}

@Suite struct FailedTransactionTests {
    @Test func aTransactionWhoseJournalWriteFailsIsRetiredAndItsClustersAreFreed() async throws {
        let fixture = try await DatastoreFixture(size: 8 << 20, maxHosts: 2, maxDisks: 4, clusterBlocks: 32)
        let device = JournalFailingDevice(try fixture.openDevice())
        let host = UUID()
        let store = try await fixture.mount("h", uuid: host, device: device)
        try await store.createDisk(name: "a", size: 2 << 20)
        let disk = try await store.openDisk(name: "a")
        let sectorSize = UInt64(device.geometry.blockSize)
        let journal = store.header.journalStart(slot: store.slot) / sectorSize
        let record = journal + UInt64(VolumeLayout.unitSize) / sectorSize

        // The first write to a hole allocates a block; its transaction's journal record fails.
        device.failNextWrite(in: record..<(record + 1))
        let first = ByteBuffer(bytes: DatastoreFixture.pattern(65536, seed: 1))
        await #expect(throws: (any Error).self) {
            try await disk.write(first, offset: 0, fua: true)
        }
        #expect(device.failed == 1)
        // Nothing of it stays locked: no resource cluster is held by this host.
        let clusters = try await store.locks().filter { $0.object.hasPrefix("cluster") && !$0.isStale }
        #expect(clusters.isEmpty, "cluster locks left after the failed transaction: \(clusters)")
        // The journal header names the failed sequence as applied, so no replay applies it.
        let header = try await device.read(at: journal, blockCount: VolumeLayout.unitSize / Int(sectorSize))
        let applied = try JournalTransaction.decodeJournalHeader(header, slot: store.slot)
        let pending = try await device.read(at: record, blockCount: VolumeLayout.unitSize / Int(sectorSize))
        let capacity = JournalTransaction.capacity(journalUnits: Int(store.header.journalUnits))
        if let (sequence, _) = JournalTransaction.decodeHeader(pending, slot: store.slot, capacity: capacity) {
            #expect(sequence <= applied, "an earlier record left unapplied: \(sequence) > \(applied)")
        }

        // The same write again takes a block and lands; the volume is consistent, also after a
        // remount (which would replay anything left pending).
        let second = ByteBuffer(bytes: DatastoreFixture.pattern(65536, seed: 2))
        try await disk.write(second, offset: 0, fua: true)
        #expect(try await disk.read(offset: 0, length: 65536) == second)
        #expect(try await store.check().isClean)
        try await disk.close()
        try await store.unmount()
        let again = try await fixture.mount("h", uuid: host)
        #expect(try await again.check().isClean)
        let reopened = try await again.openDisk(name: "a")
        #expect(try await reopened.read(offset: 0, length: 65536) == second)
        #expect(try await again.diskInfo(name: "a").allocatedBlocks == 1)
        try await reopened.close()
        try await again.unmount()
    }
}
