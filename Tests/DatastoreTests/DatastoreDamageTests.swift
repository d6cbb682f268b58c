// Corrupt metadata is caught by checksum and named; the backup header serves; nothing crashes.

import BlockDevice
@testable import Datastore
import Foundation
import NIOCore
import Testing

@Suite struct DatastoreDamageTests {
    @Test func badPrimaryHeaderFallsBackToTheBackup() async throws {
        let fixture = try await DatastoreFixture()
        try DatastoreFixture.scribble(fixture.path, at: 40, count: 100, seed: 3)
        let store = try await fixture.mount("a")
        #expect(store.mountedFromBackupHeader)
        let report = try await store.check(repair: true)
        #expect(report.issues.contains { $0.kind == .badHeader })
        #expect(!report.repairs.isEmpty)
        try await store.unmount()
        let again = try await fixture.mount("a")
        #expect(!again.mountedFromBackupHeader)
        try await again.unmount()
    }

    @Test func bothHeadersBadIsAClearError() async throws {
        let fixture = try await DatastoreFixture()
        try DatastoreFixture.scribble(fixture.path, at: 40, count: 100, seed: 3)
        try DatastoreFixture.scribble(fixture.path, at: (256 << 20) - 4096 + 40, count: 100, seed: 4)
        await #expect { try await fixture.mount("a") } throws: { error in
            let error = error as? DatastoreError
            return error?.code == .corrupt && error!.message.contains("primary volume header") && error!.message.contains("backup volume header")
        }
    }

    @Test func damagedDescriptorIsNamed() async throws {
        let fixture = try await DatastoreFixture()
        let store = try await fixture.mount("a")
        try await store.createDisk(name: "victim", size: 4 << 20)
        let offset = store.header.descriptorUnit(0) + 300
        try DatastoreFixture.scribble(fixture.path, at: offset, count: 64, seed: 5)
        await #expect { try await store.openDisk(name: "victim") } throws: { error in
            (error as? DatastoreError)?.message.contains("descriptor 0") == true
        }
        let report = try await store.check()
        #expect(report.issues.contains { $0.kind == .badChecksum && $0.message.contains("descriptor 0") })
        try await store.unmount()
    }

    @Test func damagedPointerBlockIsNamed() async throws {
        let fixture = try await DatastoreFixture()
        let store = try await fixture.mount("a")
        try await store.createDisk(name: "deep", size: 32 << 20)
        let disk = try await store.openDisk(name: "deep")
        try await disk.write(ByteBuffer(bytes: DatastoreFixture.pattern(4096, seed: 1)), offset: 20 << 20, fua: true)
        try await disk.close()
        let (_, descriptor) = try await store.findDisk("deep")
        let pointerBlock = descriptor.single[0]
        #expect(pointerBlock != 0)
        try DatastoreFixture.scribble(fixture.path, at: pointerBlock * UInt64(store.fileBlockSize) + 100, count: 200, seed: 6)
        let reopened = try await store.openDisk(name: "deep")
        await #expect { try await reopened.read(offset: 20 << 20, length: 4096) } throws: { error in
            (error as? BlockDeviceError)?.message.contains("pointer block \(pointerBlock)") == true
        }
        try await reopened.close()
        let report = try await store.check()
        #expect(report.issues.contains { $0.message.contains("pointer block \(pointerBlock)") })
        try await store.unmount()
    }

    @Test func leakedBlocksAreReportedAndRepaired() async throws {
        let fixture = try await DatastoreFixture()
        let store = try await fixture.mount("a")
        // Leak a block on purpose: allocate it in a bitmap with no pointer naming it.
        let transaction = MetadataTransaction()
        _ = try await store.allocateBlocks(3, transaction: transaction)
        try await store.commit(transaction)
        let report = try await store.check()
        #expect(report.issues.map(\.kind) == [.leakedBlock])
        let repaired = try await store.check(repair: true)
        #expect(repaired.repairs.contains { $0.contains("freed 3 leaked") })
        #expect(try await store.check().isClean)
        try await store.unmount()
    }
}
