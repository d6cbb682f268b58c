// A BlockDevice wrapper that counts the commands the daemon's initiator sends to one target.

import BlockDevice
import Metrics
import NIOCore
import SCSI

/// Forwards every call to `base` and counts each command (all but `close`) in
/// `vdiskd_initiator_commands_total{target}`; calls that fail count in `vdiskd_initiator_errors_total{target}` too, except a COMPARE AND
/// WRITE miscompare, which is the ordinary "somebody else holds it" answer of an ATS lock.
final class MeteredBlockDevice: ForwardingBlockDevice {
    let base: any BlockDevice
    private let commands: CoreMetrics.Counter
    private let errors: CoreMetrics.Counter

    init(_ base: any BlockDevice, target: String, metrics: DaemonMetrics) {
        self.base = base
        self.commands = metrics.counter("vdiskd_initiator_commands_total", [("target", target)])
        self.errors = metrics.counter("vdiskd_initiator_errors_total", [("target", target)])
    }

    private func counted<T>(_ body: () async throws -> T) async throws -> T {
        commands.increment()
        do {
            return try await body()
        } catch {
            if (error as? BlockDeviceError)?.code != .miscompare { errors.increment() }
            throw error
        }
    }

    @discardableResult
    func refreshGeometry() async throws -> BlockGeometry { try await counted { try await base.refreshGeometry() } }
    func read(at lba: UInt64, blockCount: Int) async throws -> ByteBuffer { try await counted { try await base.read(at: lba, blockCount: blockCount) } }
    func write(_ data: ByteBuffer, at lba: UInt64, fua: Bool) async throws { try await counted { try await base.write(data, at: lba, fua: fua) } }
    func flush() async throws { try await counted { try await base.flush() } }
    func unmap(_ ranges: [BlockRange]) async throws { try await counted { try await base.unmap(ranges) } }
    func writeSame(_ pattern: ByteBuffer, at lba: UInt64, blockCount: Int, unmap: Bool) async throws {
        try await counted { try await base.writeSame(pattern, at: lba, blockCount: blockCount, unmap: unmap) }
    }
    func compareAndWrite(at lba: UInt64, expected: ByteBuffer, replacement: ByteBuffer) async throws {
        try await counted { try await base.compareAndWrite(at: lba, expected: expected, replacement: replacement) }
    }
    func persistentReserveOut(_ request: PersistentReserveOutRequest) async throws { try await counted { try await base.persistentReserveOut(request) } }
    func readReservationKeys() async throws -> PersistentReservationKeys { try await counted { try await base.readReservationKeys() } }
    func readReservation() async throws -> PersistentReservationStatus { try await counted { try await base.readReservation() } }
}
