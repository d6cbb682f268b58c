// Verified I/O shared by the engine tests: writes of many sizes read back and
// checked against the backing file, and a bounded number of I/Os in flight.

import BlockDevice
import Foundation
import NIOCore
import Testing
import TestSupport

enum VerifiedIO {
    /// Sizes in bytes: one block, around FirstBurstLength (64 KiB in the burst tests),
    /// around MaxBurstLength (256 KiB), then up to 16 MiB.
    static let sizes = [512, 4096, 65024, 65536, 66048, 262_144, 266_240, 1 << 20, 3 << 20 + 512, 16 << 20]

    /// One pattern per size, made once for the whole run: tests that write the sizes to
    /// different LUNs need no different data, and making 21 MiB of it costs time.
    static let sizePatterns: [ByteBuffer] = sizes.enumerated().map { index, size in
        TestPattern.bytes(seed: 100 + UInt64(index), count: size)
    }

    /// Blocks `sizes` takes when written one after another with 8-block gaps.
    static var footprint: UInt64 { sizes.reduce(0) { $0 + UInt64($1 / 512) + 8 } }

    /// Writes each size at its own LBA from `firstLBA` on a LUN of its own, reads everything
    /// back, and checks the backing file too when there is one.
    static func writeAndVerifySizes(
        _ device: any BlockDevice,
        firstLBA: UInt64 = 0,
        backingFile: String?,
        context: String
    ) async throws {
        var lba = firstLBA
        var placed: [(UInt64, ByteBuffer)] = []
        for data in sizePatterns {
            let size = data.readableBytes
            try await device.write(data, at: lba)
            placed.append((lba, data))
            lba += UInt64(size / 512) + 8
        }
        for (lba, data) in placed {
            let back = try await device.read(at: lba, blockCount: data.readableBytes / 512)
            #expect(back == data, "\(context): read back \(data.readableBytes) bytes at LBA \(lba)")
        }
        if let backingFile {
            try expectOnDisk(placed, in: backingFile, context: context)
        }
    }

    /// Checks that each (LBA, data) pair is what the target stored in its backing file.
    static func expectOnDisk(_ placed: [(UInt64, ByteBuffer)], in backingFile: String, context: String) throws {
        let handle = try #require(FileHandle(forReadingAtPath: backingFile))
        defer { try? handle.close() }
        for (lba, data) in placed {
            try handle.seek(toOffset: lba * 512)
            let onDisk = try #require(try handle.read(upToCount: data.readableBytes))
            var stored = ByteBufferAllocator().buffer(capacity: onDisk.count)
            stored.writeBytes(onDisk)
            #expect(stored == data, "\(context): backing file at LBA \(lba)")
        }
    }

    /// Runs `body(0..<count)` with at most `depth` calls in flight.
    static func runBounded(count: Int, depth: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            while next < min(depth, count) {
                let index = next
                group.addTask { try await body(index) }
                next += 1
            }
            // Bounded: one new task per finished one, `count` in all.
            while try await group.next() != nil {
                if next < count {
                    let index = next
                    group.addTask { try await body(index) }
                    next += 1
                }
            }
        }
    }
}
