// A device that "loses power" after its Nth metadata write: every later write fails.

import BlockDevice
import NIOConcurrencyHelpers
import NIOCore
import SCSI

/// Wraps a device and fails every write (data, metadata, COMPARE AND WRITE, UNMAP) once
/// `limit` writes got through.
///
/// Flushes and FUA are not passed down: the simulated crash stops writes but never loses
/// ones already made, so syncing the image file would add seconds and no coverage.
final class CrashingBlockDevice: ForwardingBlockDevice {
    let inner: any BlockDevice
    var base: any BlockDevice { inner }
    let limit: Int
    private let writes = NIOLockedValueBox(0)

    init(_ inner: any BlockDevice, failAfter limit: Int) {
        self.inner = inner
        self.limit = limit
    }

    var writesSoFar: Int { writes.withLockedValue { $0 } }

    private func admit() throws {
        let allowed = writes.withLockedValue { count -> Bool in
            guard count < limit else { return false }
            count += 1
            return true
        }
        if !allowed { throw BlockDeviceError(.transport, "simulated crash after \(limit) writes") }
    }

    private func gate() throws {
        if writes.withLockedValue({ $0 >= limit }) { throw BlockDeviceError(.transport, "simulated crash after \(limit) writes") }
    }

    func write(_ data: ByteBuffer, at lba: UInt64, fua: Bool) async throws { try admit(); try await inner.write(data, at: lba, fua: false) }
    func flush() async throws { try gate() }
    func unmap(_ ranges: [BlockRange]) async throws { try admit(); try await inner.unmap(ranges) }
    func writeSame(_ pattern: ByteBuffer, at lba: UInt64, blockCount: Int, unmap: Bool) async throws {
        try admit(); try await inner.writeSame(pattern, at: lba, blockCount: blockCount, unmap: unmap)
    }
    func compareAndWrite(at lba: UInt64, expected: ByteBuffer, replacement: ByteBuffer) async throws {
        try admit(); try await inner.compareAndWrite(at: lba, expected: expected, replacement: replacement)
    }
}
