// A BlockDevice in memory for the fuzz targets: no files, no blocking threads, so an
// input runs in microseconds and leaves nothing behind.

import BlockDevice
import NIOConcurrencyHelpers
import NIOCore
import SCSI

public final class MemoryBlockDevice: BlockDevice {
    public let geometry: BlockGeometry
    public let capabilities: BlockDeviceCapabilities = [.unmap, .writeSame, .writeSameUnmap, .compareAndWrite, .unmappedReadsZero, .forceUnitAccess]
    private let bytes: NIOLockedValueBox<[UInt8]>

    public init(blockSize: Int, blockCount: UInt64) {
        geometry = BlockGeometry(blockSize: blockSize, blockCount: blockCount)
        bytes = NIOLockedValueBox([UInt8](repeating: 0, count: blockSize * Int(blockCount)))
    }

    /// A device holding a copy of `contents` (whole blocks), as `contents` hands one out.
    public init(blockSize: Int, contents: [UInt8]) {
        geometry = BlockGeometry(blockSize: blockSize, blockCount: UInt64(contents.count / blockSize))
        bytes = NIOLockedValueBox(contents)
    }

    /// Every byte of the device, to start other devices from.
    public var contents: [UInt8] { bytes.withLockedValue { $0 } }

    public func refreshGeometry() async throws -> BlockGeometry { geometry }

    public func read(at lba: UInt64, blockCount: Int) async throws -> ByteBuffer {
        try checkRange(lba: lba, blockCount: blockCount, operation: "read")
        let start = Int(lba) * geometry.blockSize
        let slice = bytes.withLockedValue { Array($0[start..<(start + blockCount * geometry.blockSize)]) }
        return ByteBuffer(bytes: slice)
    }

    public func write(_ data: ByteBuffer, at lba: UInt64, fua: Bool) async throws {
        guard data.readableBytes % geometry.blockSize == 0 else {
            throw BlockDeviceError(.invalidArgument, "write of \(data.readableBytes) bytes is not whole blocks")
        }
        try checkRange(lba: lba, blockCount: data.readableBytes / geometry.blockSize, operation: "write")
        let start = Int(lba) * geometry.blockSize
        bytes.withLockedValue { $0.replaceSubrange(start..<(start + data.readableBytes), with: data.readableBytesView) }
    }

    public func flush() async throws {}

    public func unmap(_ ranges: [BlockRange]) async throws {
        for range in ranges {
            try await writeSame(ByteBuffer(repeating: 0, count: geometry.blockSize), at: range.lba, blockCount: Int(range.blockCount), unmap: false)
        }
    }

    public func writeSame(_ pattern: ByteBuffer, at lba: UInt64, blockCount: Int, unmap: Bool) async throws {
        guard pattern.readableBytes == geometry.blockSize else {
            throw BlockDeviceError(.invalidArgument, "write same pattern of \(pattern.readableBytes) bytes is not one block")
        }
        try checkRange(lba: lba, blockCount: blockCount, operation: "write same")
        let block = Array(pattern.readableBytesView)
        let start = Int(lba) * geometry.blockSize
        bytes.withLockedValue { bytes in
            for index in 0..<blockCount {
                bytes.replaceSubrange((start + index * block.count)..<(start + (index + 1) * block.count), with: block)
            }
        }
    }

    public func compareAndWrite(at lba: UInt64, expected: ByteBuffer, replacement: ByteBuffer) async throws {
        try checkRange(lba: lba, blockCount: expected.readableBytes / geometry.blockSize, operation: "compare and write")
        let start = Int(lba) * geometry.blockSize
        let wanted = Array(expected.readableBytesView)
        let difference: Int? = bytes.withLockedValue { bytes in
            for index in 0..<wanted.count where bytes[start + index] != wanted[index] { return index }
            bytes.replaceSubrange(start..<(start + wanted.count), with: replacement.readableBytesView)
            return nil
        }
        if let difference {
            throw BlockDeviceError(.miscompare, "data differs at byte \(difference)", miscompareOffset: difference)
        }
    }

    public func persistentReserveOut(_ request: PersistentReserveOutRequest) async throws {
        throw BlockDeviceError(.notSupported, "no reservations in memory")
    }

    public func readReservationKeys() async throws -> PersistentReservationKeys {
        throw BlockDeviceError(.notSupported, "no reservations in memory")
    }

    public func readReservation() async throws -> PersistentReservationStatus {
        throw BlockDeviceError(.notSupported, "no reservations in memory")
    }

    public func close() async throws {}
}
