// A device that passes what it does not change on to another: wrappers that count, gate,
// fail or watch some calls implement only those.

import NIOCore
import SCSI

/// Forwards every `BlockDevice` call to `base`. A conforming type overrides the calls it
/// changes; the rest reach `base` untouched, geometry and task executor included.
public protocol ForwardingBlockDevice: BlockDevice {
    var base: any BlockDevice { get }
}

extension ForwardingBlockDevice {
    public var geometry: BlockGeometry { base.geometry }
    public var capabilities: BlockDeviceCapabilities { base.capabilities }
    public var preferredTaskExecutor: (any TaskExecutor)? { base.preferredTaskExecutor }

    @discardableResult
    public func refreshGeometry() async throws -> BlockGeometry { try await base.refreshGeometry() }

    public func read(at lba: UInt64, blockCount: Int) async throws -> ByteBuffer {
        try await base.read(at: lba, blockCount: blockCount)
    }

    public func write(_ data: ByteBuffer, at lba: UInt64, fua: Bool) async throws {
        try await base.write(data, at: lba, fua: fua)
    }

    public func flush() async throws { try await base.flush() }

    public func unmap(_ ranges: [BlockRange]) async throws { try await base.unmap(ranges) }

    public func writeSame(_ pattern: ByteBuffer, at lba: UInt64, blockCount: Int, unmap: Bool) async throws {
        try await base.writeSame(pattern, at: lba, blockCount: blockCount, unmap: unmap)
    }

    public func compareAndWrite(at lba: UInt64, expected: ByteBuffer, replacement: ByteBuffer) async throws {
        try await base.compareAndWrite(at: lba, expected: expected, replacement: replacement)
    }

    public func persistentReserveOut(_ request: PersistentReserveOutRequest) async throws {
        try await base.persistentReserveOut(request)
    }

    public func readReservationKeys() async throws -> PersistentReservationKeys { try await base.readReservationKeys() }

    public func readReservation() async throws -> PersistentReservationStatus { try await base.readReservation() }

    public func close() async throws { try await base.close() }

    public func revokeOutstandingCommands(reason: String) async { await base.revokeOutstandingCommands(reason: reason) }
}
