// One host's session to a ReservationTarget: the image's blocks, checked against the
// LUN's reservation, with persistent reservations and without COMPARE AND WRITE.

import BlockDevice
import NIOCore
import SCSI

final class ReservingBlockDevice: BlockDevice {
    let target: ReservationTarget
    let nexus: Int

    init(target: ReservationTarget, nexus: Int) {
        self.target = target
        self.nexus = nexus
    }

    var geometry: BlockGeometry { target.backing.geometry }

    var capabilities: BlockDeviceCapabilities {
        target.backing.capabilities.subtracting(.compareAndWrite).union(.persistentReservations)
    }

    func refreshGeometry() async throws -> BlockGeometry { try await target.backing.refreshGeometry() }

    func read(at lba: UInt64, blockCount: Int) async throws -> ByteBuffer {
        try await target.backing.read(at: lba, blockCount: blockCount)
    }

    func write(_ data: ByteBuffer, at lba: UInt64, fua: Bool) async throws {
        try target.checkWrite(nexus: nexus, lba: lba, "WRITE at LBA \(lba)")
        try await target.backing.write(data, at: lba, fua: fua)
    }

    func flush() async throws {
        try target.checkWrite(nexus: nexus, lba: nil, "SYNCHRONIZE CACHE")
        try await target.backing.flush()
    }

    func unmap(_ ranges: [BlockRange]) async throws {
        try target.checkWrite(nexus: nexus, lba: ranges.first?.lba, "UNMAP")
        try await target.backing.unmap(ranges)
    }

    func writeSame(_ pattern: ByteBuffer, at lba: UInt64, blockCount: Int, unmap: Bool) async throws {
        try target.checkWrite(nexus: nexus, lba: lba, "WRITE SAME at LBA \(lba)")
        try await target.backing.writeSame(pattern, at: lba, blockCount: blockCount, unmap: unmap)
    }

    func compareAndWrite(at lba: UInt64, expected: ByteBuffer, replacement: ByteBuffer) async throws {
        throw BlockDeviceError(.notSupported, "COMPARE AND WRITE is not supported by this emulated LUN (like tgt)")
    }

    func persistentReserveOut(_ request: PersistentReserveOutRequest) async throws {
        try target.reserveOut(request, nexus: nexus)
    }

    func readReservationKeys() async throws -> PersistentReservationKeys { target.keys() }

    func readReservation() async throws -> PersistentReservationStatus { target.reservation() }

    /// Ending a session leaves its registration in place, as persistent reservations do.
    func close() async throws {}
}
