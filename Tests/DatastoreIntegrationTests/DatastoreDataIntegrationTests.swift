// Virtual disk data on real targets: random writes survive a remount on both targets,
// a 1 TiB thin disk costs nothing, and UNMAP reaches a thin-provisioned tgt LUN.

import BlockDevice
@testable import Datastore
import Foundation
import NIOCore
import Testing

// LIO's cases may wait for the shared guest's first boot: minutes on a busy machine.
@Suite(.timeLimit(.minutes(10)))
struct DatastoreDataIntegrationTests {
    /// Next value of an xorshift stream: offsets and sizes the test can repeat.
    private static func next(_ state: inout UInt64) -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    @Test(arguments: RealTarget.allCases)
    func randomWritesReadBackByteForByteAfterARemount(target: RealTarget) async throws {
        try await target.withLUN(size: 256 << 20) { lun in
            try await lun.format()
            let writer = try await ClusterHost.mount(lun, name: "writer")

            // A 1 TiB thin disk is a descriptor and nothing else: no blocks, under 1 MiB written.
            // Its time is only a guard against a create that walks the disk (minutes at 1 TiB);
            // in the full parallel suite a create over iSCSI took just over 1 s.
            let allocatedBefore = try lun.allocatedBytes()
            let started = ContinuousClock.now
            let huge = try await writer.store.createDisk(name: "huge", size: 1 << 40)
            let elapsed = ContinuousClock.now - started
            #expect(huge.allocatedBlocks == 0)
            #expect(try lun.allocatedBytes() - allocatedBefore < 1 << 20, "a thin 1 TiB disk took space on the LUN")
            #expect(elapsed < .seconds(10), "creating a 1 TiB thin disk took \(elapsed)")

            let disks: [(name: String, size: Int, kind: DiskKind)] = [("thin", 40 << 20, .thin), ("eager", 8 << 20, .eagerZeroed)]
            var models: [String: [UInt8]] = [:]
            var state: UInt64 = 0x5DEE_CE66_D15C_0DE5
            for (diskIndex, disk) in disks.enumerated() {
                try await writer.store.createDisk(name: disk.name, size: UInt64(disk.size), kind: disk.kind)
                let opened = try await writer.store.openDisk(name: disk.name)
                var model = [UInt8](repeating: 0, count: disk.size)
                // Byte-granular sizes and offsets: most writes start and end inside LUN blocks.
                for index in 0..<40 {
                    let length = Int(Self.next(&state) % 200_000) + 1
                    let offset = Int(Self.next(&state) % UInt64(disk.size - length))
                    let bytes = TestBytes.make(length, seed: UInt64(diskIndex * 1000 + index))
                    try await opened.write(ByteBuffer(bytes: bytes), offset: UInt64(offset), fua: index % 8 == 0)
                    model.replaceSubrange(offset..<offset + length, with: bytes)
                }
                try await opened.flush()
                try await opened.close()
                models[disk.name] = model
            }
            let thinInfo = try await writer.store.diskInfo(name: "thin")
            #expect(thinInfo.allocatedBlocks < UInt64(40 << 20) / (64 << 10), "a thin disk allocated every block")
            let eagerInfo = try await writer.store.diskInfo(name: "eager")
            #expect(eagerInfo.allocatedBlocks == UInt64(8 << 20) / (64 << 10))
            try await writer.leave()

            // Another host on another session reads everything back, holes included.
            let reader = try await ClusterHost.mount(lun, name: "reader")
            for disk in disks {
                let opened = try await reader.store.openDisk(name: disk.name, mode: .sharedReadOnly)
                let model = try #require(models[disk.name])
                let chunk = 1 << 20
                for start in stride(from: 0, to: disk.size, by: chunk) {
                    let back = try await opened.read(offset: UInt64(start), length: chunk)
                    let difference = ByteComparison.firstDifference(back, model[start..<start + chunk])
                    #expect(difference == nil, "disk '\(disk.name)' differs at byte \(start + (difference ?? 0))")
                }
                try await opened.close()
            }
            let report = try await reader.store.check()
            #expect(report.isClean, "\(report.issues)")
            try await reader.leave()
        }
    }

    /// UNMAP on a virtual disk frees its whole file blocks (the bitmap and the disk's block
    /// count say so) and passes UNMAP down: tgt punches holes in the LUN's backing file, and
    /// LIO (iblock) passes it as a discard to QEMU, which punches the host file.
    @Test(arguments: [RealTarget.tgt, .lio])
    func unmapFreesWholeFileBlocksAndShrinksTheThinLUN(target: RealTarget) async throws {
        let mebibyte = 1 << 20
        try await target.withLUN(size: 256 << 20, thinProvisioning: true) { lun in
            try await lun.format(fileBlockSize: mebibyte)
            let host = try await ClusterHost.mount(lun, name: "host")
            #expect(host.device.capabilities.isSuperset(of: [.unmap, .writeSameUnmap]))
            // tgt reports LBPRZ=1; LIO reports LBPRZ=0 (iblock makes no promise), so there the
            // datastore's own map, not the target, makes the unmapped range read zeros.
            #expect(host.device.capabilities.contains(.unmappedReadsZero) == (target == .tgt))
            try await host.store.createDisk(name: "scratch", size: 64 << 20)
            let disk = try await host.store.openDisk(name: "scratch")

            let empty = try lun.allocatedBytes()
            let data = TestBytes.make(32 * mebibyte, seed: 99)
            for block in 0..<32 {
                let slice = ByteBuffer(bytes: data[block * mebibyte..<(block + 1) * mebibyte])
                try await disk.write(slice, offset: UInt64(block * mebibyte), fua: false)
            }
            try await disk.flush()
            let full = try lun.allocatedBytes()
            #expect(full >= empty + UInt64(31 * mebibyte), "32 MiB written, the LUN file grew by \(full - empty) bytes")
            let freeBefore = try #require(try await Datastore.info(device: host.device, countingFreeBlocks: true).freeBlocks)
            let blocksBefore = disk.info.allocatedBlocks

            // From 512 KiB for 30 MiB: file blocks 1 to 29 go whole; half of 0 and of 30 are zeroed.
            let start = mebibyte / 2
            let length = 30 * mebibyte
            try await disk.unmap([BlockRange(lba: UInt64(start / 512), blockCount: UInt32(length / 512))])

            #expect(disk.info.allocatedBlocks == blocksBefore - 29)
            let freeAfter = try #require(try await Datastore.info(device: host.device, countingFreeBlocks: true).freeBlocks)
            #expect(freeAfter == freeBefore + 29)
            let punched = try lun.allocatedBytes()
            #expect(full - min(full, punched) >= UInt64(28 * mebibyte), "UNMAP of 29 MiB shrank the LUN file by only \(full - min(full, punched)) bytes")

            let head = try await disk.read(offset: 0, length: start)
            #expect(ByteComparison.firstDifference(head, data[0..<start]) == nil)
            let hole = try await disk.read(offset: UInt64(start), length: length)
            #expect(ByteComparison.firstNonZero(hole) == nil, "the unmapped range does not read zeros")
            let tail = try await disk.read(offset: UInt64(start + length), length: 32 * mebibyte - start - length)
            #expect(ByteComparison.firstDifference(tail, data[(start + length)...]) == nil)

            try await disk.close()
            let report = try await host.store.check()
            #expect(report.isClean, "\(report.issues)")
            try await host.leave()
        }
    }
}
