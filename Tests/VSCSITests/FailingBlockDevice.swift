// A block device whose every I/O fails with one chosen error, to check how the unit
// reports device failures.

import BlockDevice
import NIOCore
import SCSI

final class FailingBlockDevice: BlockDevice {
    let geometry = BlockGeometry(blockSize: 512, blockCount: 1024)
    let capabilities: BlockDeviceCapabilities = [.unmap, .writeSame, .unmappedReadsZero]
    let code: BlockDeviceError.Code

    init(_ code: BlockDeviceError.Code) { self.code = code }

    private func fail() -> BlockDeviceError { BlockDeviceError(code, "injected \(code)", miscompareOffset: 42) }

    func refreshGeometry() async throws -> BlockGeometry { geometry }
    func read(at lba: UInt64, blockCount: Int) async throws -> ByteBuffer { throw fail() }
    func write(_ data: ByteBuffer, at lba: UInt64, fua: Bool) async throws { throw fail() }
    func flush() async throws { throw fail() }
    func unmap(_ ranges: [BlockRange]) async throws { throw fail() }
    func writeSame(_ pattern: ByteBuffer, at lba: UInt64, blockCount: Int, unmap: Bool) async throws { throw fail() }
    func compareAndWrite(at lba: UInt64, expected: ByteBuffer, replacement: ByteBuffer) async throws { throw fail() }
    func persistentReserveOut(_ request: PersistentReserveOutRequest) async throws { throw fail() }
    func readReservationKeys() async throws -> PersistentReservationKeys { throw fail() }
    func readReservation() async throws -> PersistentReservationStatus { throw fail() }
    func close() async throws {}
}
