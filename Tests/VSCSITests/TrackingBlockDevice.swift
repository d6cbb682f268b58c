// A file-backed device that remembers which blocks were written and which were
// deallocated, and reports it through LBAStatusReporting.

import BlockDevice
import NIOConcurrencyHelpers
import NIOCore
import SCSI
import VSCSI

final class TrackingBlockDevice: ForwardingBlockDevice, LBAStatusReporting {
    let inner: FileBlockDevice
    var base: any BlockDevice { inner }
    private let mapped = NIOLockedValueBox(Set<UInt64>())

    init(_ inner: FileBlockDevice) { self.inner = inner }


    func provisioningStatus(at lba: UInt64, limit: UInt64) async throws -> (mapped: Bool, blockCount: UInt64) {
        mapped.withLockedValue { set in
            let state = set.contains(lba)
            var count: UInt64 = 1
            while count < limit && set.contains(lba + count) == state { count += 1 }
            return (state, count)
        }
    }

    private func mark(_ lba: UInt64, _ count: Int, _ state: Bool) {
        mapped.withLockedValue { set in
            for block in lba..<(lba + UInt64(count)) {
                if state { set.insert(block) } else { set.remove(block) }
            }
        }
    }

    func write(_ data: ByteBuffer, at lba: UInt64, fua: Bool) async throws {
        try await inner.write(data, at: lba, fua: fua)
        mark(lba, data.readableBytes / geometry.blockSize, true)
    }
    func unmap(_ ranges: [BlockRange]) async throws {
        try await inner.unmap(ranges)
        for range in ranges { mark(range.lba, Int(range.blockCount), false) }
    }
    func writeSame(_ pattern: ByteBuffer, at lba: UInt64, blockCount: Int, unmap: Bool) async throws {
        try await inner.writeSame(pattern, at: lba, blockCount: blockCount, unmap: unmap)
        mark(lba, blockCount, true)
    }
    func compareAndWrite(at lba: UInt64, expected: ByteBuffer, replacement: ByteBuffer) async throws {
        try await inner.compareAndWrite(at: lba, expected: expected, replacement: replacement)
        mark(lba, expected.readableBytes / geometry.blockSize, true)
    }
}
