// Per-disk statistics of an exported unit as real initiators drive it: our native initiator
// (exact counts) and QEMU's iSCSI driver (bytes written and read back).

import BlockDevice
import Foundation
import ISCSI
import ISCSIAddress
import NIOCore
import TestSupport
import Testing
import VSCSI

@Suite(.serialized, .timeLimit(.minutes(3))) struct ExportStatisticsTests {
    @Test func nativeReadsAndWritesAreCountedExactly() async throws {
        let statistics = IOStatistics()
        try await ExportHarness.with(size: 16 << 20, statistics: statistics) { harness in
            let url = ISCSITargetURL(endpoint: harness.portal, targetName: ExportHarness.iqn, lun: 0)
            let lun = try await ISCSILUN.connect(url)
            // Whatever the login and probing sent is the baseline.
            let before = statistics.snapshot()
            for index in 0..<12 { _ = try await lun.read(at: UInt64(index) * 128, blockCount: 128) }
            let block = lun.geometry.blockSize
            for index in 0..<5 { try await lun.write(ByteBuffer(repeating: UInt8(index), count: 8 * block), at: UInt64(index) * 8) }
            try await lun.flush()
            let after = statistics.snapshot()
            try await lun.close()

            #expect(after[.read].totals.subtracting(before[.read].totals) == IOCounts(operations: 12, bytes: UInt64(12 * 128 * block), errors: 0))
            #expect(after[.write].totals.subtracting(before[.write].totals) == IOCounts(operations: 5, bytes: UInt64(5 * 8 * block), errors: 0))
            // SYNCHRONIZE CACHE is an "other" command.
            #expect(after[.other].totals.operations - before[.other].totals.operations == 1)
            #expect(after[.read].latency != nil)
        }
    }

    @Test func qemuImgTrafficShowsUpInBytes() async throws {
        let statistics = IOStatistics()
        try await ExportHarness.with(size: 16 << 20, statistics: statistics) { harness in
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<(4 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let source = harness.directory.file("random.raw")
            try Data(bytes).write(to: URL(fileURLWithPath: source))
            try await ExternalCommand.run(.qemuImg, ["convert", "-n", "-f", "raw", "-O", "raw", source, harness.url()], timeout: .seconds(60)).check()
            let written = statistics.snapshot()[.write].totals
            #expect(written.bytes >= 4 << 20)
            #expect(written.errors == 0)
            let compare = try await ExternalCommand.run(.qemuImg, ["compare", "-f", "raw", "-F", "raw", source, harness.url()], timeout: .seconds(60))
            #expect(compare.status.isSuccess, "qemu-img compare: \(compare)")
            #expect(statistics.snapshot()[.read].totals.bytes >= 4 << 20)
        }
    }
}
