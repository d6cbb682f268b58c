// Small filters and helpers the chain tests build on.

import BlockDevice
import Filters
import Foundation
import NIOCore
import SCSI
import Synchronization
import TestSupport

/// A filter that passes everything down and counts what it saw, in order.
final class RecordingFilter: IOFilter {
    let name: String
    let category: FilterCategory
    let failurePolicy = FilterFailurePolicy.failIO
    let operations: Set<FilterOperation>
    let parameters = FilterParameters()
    let seen = Mutex<[FilterOperation]>([])

    init(_ category: FilterCategory, name: String? = nil, operations: Set<FilterOperation> = Set(FilterOperation.allCases)) {
        self.category = category
        self.name = name ?? "recording-\(category)"
        self.operations = operations
    }

    func handle(_ request: FilterRequest, next: FilterNext) async throws -> FilterReply {
        seen.withLock { $0.append(request.operation) }
        return try await next.pass(request)
    }
}

/// A file-backed device of `blocks` 512-byte blocks in `directory`.
func fileDevice(_ directory: TemporaryDirectory, _ name: String, blocks: Int = 8192) throws -> FileBlockDevice {
    let path = directory.file(name)
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.truncate(atOffset: UInt64(blocks * 512))
    try handle.close()
    return try FileBlockDevice(path: path, blockSize: 512)
}

/// `count` blocks of 512 bytes, each filled with a byte derived from `seed` and its index.
func pattern(seed: UInt8, blocks: Int) -> ByteBuffer {
    var buffer = ByteBuffer()
    for block in 0..<blocks {
        buffer.writeRepeatingByte(seed &+ UInt8(truncatingIfNeeded: block), count: 512)
    }
    return buffer
}

func faultFilter(_ parameters: [String: FilterParameterValue]) throws -> any IOFilter {
    try FilterRegistry.make(FilterSpec(name: "faultInjection", parameters: FilterParameters(parameters)), context: FilterContext(disk: "test"))
}

/// A device that answers at once from memory: zeros for reads, writes dropped. The timed QoS
/// tests run on it so the limit, not the machine's I/O, is what they measure.
final class InstantBlockDevice: BlockDevice {
    let geometry: BlockGeometry
    let capabilities: BlockDeviceCapabilities = [.unmap, .writeSame, .forceUnitAccess]

    init(blocks: Int) {
        self.geometry = BlockGeometry(blockSize: 512, blockCount: UInt64(blocks))
    }

    func refreshGeometry() async throws -> BlockGeometry { geometry }
    func read(at lba: UInt64, blockCount: Int) async throws -> ByteBuffer {
        try checkRange(lba: lba, blockCount: blockCount, operation: "read")
        return ByteBuffer(repeating: 0, count: blockCount * 512)
    }
    func write(_ data: ByteBuffer, at lba: UInt64, fua: Bool) async throws {
        try checkRange(lba: lba, blockCount: data.readableBytes / 512, operation: "write")
    }
    func flush() async throws {}
    func unmap(_ ranges: [BlockRange]) async throws {}
    func writeSame(_ pattern: ByteBuffer, at lba: UInt64, blockCount: Int, unmap: Bool) async throws {}
    func compareAndWrite(at lba: UInt64, expected: ByteBuffer, replacement: ByteBuffer) async throws {
        throw BlockDeviceError(.notSupported, "the instant test device has no COMPARE AND WRITE")
    }
    func persistentReserveOut(_ request: PersistentReserveOutRequest) async throws {
        throw BlockDeviceError(.notSupported, "the instant test device has no reservations")
    }
    func readReservationKeys() async throws -> PersistentReservationKeys {
        throw BlockDeviceError(.notSupported, "the instant test device has no reservations")
    }
    func readReservation() async throws -> PersistentReservationStatus {
        throw BlockDeviceError(.notSupported, "the instant test device has no reservations")
    }
    func close() async throws {}
}
