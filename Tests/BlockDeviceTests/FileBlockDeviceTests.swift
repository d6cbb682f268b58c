// FileBlockDevice against real sparse files: data, holes, WRITE SAME, COMPARE AND WRITE atomicity.

import BlockDevice
import Foundation
import NIOCore
import TestSupport
import Testing

@Suite struct FileBlockDeviceTests {
    private func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
    }

    private func allocatedBytes(_ path: String) -> Int {
        var info = stat()
        stat(path, &info)
        return Int(info.st_blocks) * 512
    }

    @Test(arguments: [512, 4096])
    func writtenBlocksReadBackAndTheRestIsZero(blockSize: Int) async throws {
        let directory = TemporaryDirectory()
        let device = try FileBlockDevice.create(path: directory.file("img"), byteCount: 64 << 20, blockSize: blockSize)
        #expect(device.geometry == BlockGeometry(blockSize: blockSize, blockCount: UInt64((64 << 20) / blockSize)))
        var written: [(UInt64, [UInt8])] = []
        for round in 0..<20 {
            let count = 1 + Int(bytes(1, seed: UInt64(round))[0] % 16)
            let lba = UInt64(round * 97 + 3)
            let data = bytes(count * blockSize, seed: UInt64(round + 100))
            try await device.write(ByteBuffer(bytes: data), at: lba, fua: round % 2 == 0)
            written.append((lba, data))
        }
        try await device.flush()
        var expected = [UInt8](repeating: 0, count: 3000 * blockSize)
        for (lba, data) in written {
            expected.replaceSubrange(Int(lba) * blockSize..<Int(lba) * blockSize + data.count, with: data)
        }
        let back = try await device.read(at: 0, blockCount: 3000)
        #expect(Array(back.readableBytesView) == expected)
        try await device.close()
    }

    @Test func reopenedImageKeepsData() async throws {
        let directory = TemporaryDirectory()
        let path = directory.file("img")
        let first = try FileBlockDevice.create(path: path, byteCount: 1 << 20)
        try await first.write(ByteBuffer(bytes: bytes(4096, seed: 7)), at: 10, fua: true)
        try await first.close()
        let second = try FileBlockDevice(path: path)
        let back = try await second.read(at: 10, blockCount: 8)
        #expect(Array(back.readableBytesView) == bytes(4096, seed: 7))
        try await second.close()
    }

    @Test func rangeAndShapeErrorsAreReported() async throws {
        let directory = TemporaryDirectory()
        let device = try FileBlockDevice.create(path: directory.file("img"), byteCount: 1 << 20)
        await #expect { try await device.read(at: 2047, blockCount: 2) } throws: { error in
            (error as? BlockDeviceError)?.code == .outOfRange
        }
        await #expect { try await device.write(ByteBuffer(bytes: [1, 2, 3]), at: 0, fua: false) } throws: { error in
            (error as? BlockDeviceError)?.code == .invalidArgument
        }
        await #expect { try await device.persistentReserveOut(.registerAndIgnoreExistingKey(newKey: 1)) } throws: { error in
            (error as? BlockDeviceError)?.code == .notSupported
        }
        try await device.close()
        await #expect { try await device.read(at: 0, blockCount: 1) } throws: { error in
            (error as? BlockDeviceError)?.code == .closed
        }
        #expect(throws: BlockDeviceError.self) { try FileBlockDevice(path: directory.file("missing")) }
    }

    @Test func unmapPunchesHolesThatReadAsZeros() async throws {
        let directory = TemporaryDirectory()
        let path = directory.file("img")
        let device = try FileBlockDevice.create(path: path, byteCount: 16 << 20)
        try await device.write(ByteBuffer(bytes: bytes(8 << 20, seed: 3)), at: 0, fua: true)
        let before = allocatedBytes(path)
        #expect(before >= 8 << 20)
        try await device.unmap([BlockRange(lba: 2048, blockCount: 8192)])
        #expect(allocatedBytes(path) <= before - (4 << 20) + 65536)
        let hole = try await device.read(at: 2048, blockCount: 8192)
        #expect(hole.readableBytesView.allSatisfy { $0 == 0 })
        let kept = try await device.read(at: 0, blockCount: 2048)
        #expect(Array(kept.readableBytesView) == Array(bytes(8 << 20, seed: 3)[0..<(1 << 20)]))
        try await device.close()
    }

    @Test func writeSameRepeatsThePatternOrDeallocates() async throws {
        let directory = TemporaryDirectory()
        let device = try FileBlockDevice.create(path: directory.file("img"), byteCount: 8 << 20)
        let pattern = bytes(512, seed: 11)
        try await device.writeSame(ByteBuffer(bytes: pattern), at: 100, blockCount: 3000, unmap: false)
        let back = try await device.read(at: 99, blockCount: 3002)
        #expect(back.getBytes(at: 0, length: 512)!.allSatisfy { $0 == 0 })
        for block in 1...3000 {
            #expect(back.getBytes(at: block * 512, length: 512) == pattern)
        }
        #expect(back.getBytes(at: 3001 * 512, length: 512)!.allSatisfy { $0 == 0 })
        try await device.writeSame(ByteBuffer(repeating: 0, count: 512), at: 100, blockCount: 3000, unmap: true)
        let cleared = try await device.read(at: 100, blockCount: 3000)
        #expect(cleared.readableBytesView.allSatisfy { $0 == 0 })
        try await device.close()
    }

    @Test func compareAndWriteWritesOnlyOnAMatch() async throws {
        let directory = TemporaryDirectory()
        let device = try FileBlockDevice.create(path: directory.file("img"), byteCount: 1 << 20)
        let old = bytes(512, seed: 1)
        let new = bytes(512, seed: 2)
        try await device.write(ByteBuffer(bytes: old), at: 5, fua: false)
        var wrong = old
        wrong[77] ^= 0xFF
        await #expect { try await device.compareAndWrite(at: 5, expected: ByteBuffer(bytes: wrong), replacement: ByteBuffer(bytes: new)) } throws: { error in
            let error = error as? BlockDeviceError
            return error?.code == .miscompare && error?.miscompareOffset == 77
        }
        #expect(Array(try await device.read(at: 5, blockCount: 1).readableBytesView) == old)
        try await device.compareAndWrite(at: 5, expected: ByteBuffer(bytes: old), replacement: ByteBuffer(bytes: new))
        #expect(Array(try await device.read(at: 5, blockCount: 1).readableBytesView) == new)
        try await device.close()
    }

    /// Many tasks on two separately opened devices increment one counter with
    /// read + COMPARE AND WRITE; a lost update would show as a short count.
    @Test func compareAndWriteIsAtomicAcrossOpens() async throws {
        let directory = TemporaryDirectory()
        let path = directory.file("img")
        let first = try FileBlockDevice.create(path: path, byteCount: 1 << 20)
        let second = try FileBlockDevice(path: path)
        let tasksPerDevice = 4
        let incrementsPerTask = 50
        let devices: [FileBlockDevice] = [first, second]
        // Each task counts its miscompare retries; only the final value is checked.
        _ = try await withThrowingTaskGroup(of: Int.self) { group in
            for device in devices {
                for _ in 0..<tasksPerDevice {
                    group.addTask {
                        var retries = 0
                        for _ in 0..<incrementsPerTask {
                            while true {
                                let current = try await device.read(at: 0, blockCount: 1)
                                let value = current.getInteger(at: 0, endianness: .little, as: UInt64.self)!
                                var next = current
                                next.setInteger(value + 1, at: 0, endianness: .little)
                                do {
                                    try await device.compareAndWrite(at: 0, expected: current, replacement: next)
                                    break
                                } catch let error as BlockDeviceError where error.code == .miscompare {
                                    retries += 1
                                }
                            }
                        }
                        return retries
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        let final = try await first.read(at: 0, blockCount: 1)
        #expect(final.getInteger(at: 0, endianness: .little, as: UInt64.self) == UInt64(2 * tasksPerDevice * incrementsPerTask))
        try await first.close()
        try await second.close()
    }
}
