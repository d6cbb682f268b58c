// Space as a mount sees it: the soft threshold crossed and crossed back, running out, and a
// write that needs a block failing with `noSpace` until an unmap frees one.

import BlockDevice
@testable import Datastore
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing

@Suite struct DatastoreSpaceTests {
    @Test func theSoftThresholdComesBeforeRunningOutAndUnmapBringsWritesBack() async throws {
        // 32 MiB with 1 MiB file blocks: a couple of dozen data blocks.
        let fixture = try await DatastoreFixture(size: 32 << 20, fileBlockSize: 1 << 20, clusterBlocks: 8)
        let events = NIOLockedValueBox<[DatastoreEvent]>([])
        var options = fixture.options()
        options.spaceWarningPercent = 50
        options.eventObserver = { event in events.withLockedValue { $0.append(event) } }
        let store = try await Datastore.mount(device: fixture.openDevice(), host: HostIdentity(uuid: UUID(), name: "host-a"), options: options)
        let total = store.dataBlocks
        #expect(store.freeBlocks == total)
        try await store.createDisk(name: "big", size: 256 << 20)
        let disk = try await store.openDisk(name: "big")
        let piece = ByteBuffer(repeating: 7, count: 1 << 20)
        var written = 0
        var failure: BlockDeviceError?
        for index in 0..<Int(total) + 4 {
            do {
                try await disk.write(piece, offset: UInt64(index) << 20, fua: false)
                written += 1
            } catch let error as BlockDeviceError {
                failure = error
                break
            }
        }
        #expect(failure?.code == .noSpace, "\(String(describing: failure))")
        #expect(failure?.message.contains("no free file blocks") == true)
        #expect(store.freeBlocks == 0)
        let seen = events.withLockedValue { $0 }
        let names = seen.map { event -> String in
            switch event {
            case .spaceLow: "low"
            case .outOfSpace: "out"
            case .spaceRecovered: "ok"
            default: "other"
            }
        }
        #expect(names == ["low", "out"], "\(seen)")
        if case .spaceLow(let space) = seen.first {
            #expect(space.usedPercent >= 50 && space.usedPercent < 100, "\(space)")
            #expect(space.thresholdPercent == 50)
        }
        // Unmap the first half: the blocks come back, use falls below the threshold, and the write that failed lands.
        try await disk.unmap([BlockRange(lba: 0, blockCount: UInt32(written / 2 + 1) * 2048)])
        #expect(store.freeBlocks >= UInt64(written / 2))
        try await disk.write(piece, offset: UInt64(written) << 20, fua: true)
        #expect(Array(try await disk.read(offset: UInt64(written) << 20, length: 16).readableBytesView) == [UInt8](repeating: 7, count: 16))
        #expect(events.withLockedValue { $0 }.contains { if case .spaceRecovered = $0 { true } else { false } })
        try await disk.close()
        let report = try await store.check()
        #expect(report.isClean, "\(report.issues)")
        try await store.unmount()
    }
}
