// A formatted sparse image with helpers to mount it as one host or another.

import BlockDevice
import Datastore
import Foundation
import NIOCore
import TestSupport

/// One datastore image in a scratch folder, small enough for many tests per second.
final class DatastoreFixture {
    let directory = TemporaryDirectory("datastore")
    let path: String
    let clock = ManualDatastoreClock()

    /// Set in reservation mode: every host reaches the image through its own nexus.
    let reservationTarget: ReservationTarget?

    init(size: UInt64 = 256 << 20, fileBlockSize: Int = 64 << 10, maxHosts: Int = 4, maxDisks: Int = 16,
         clusterBlocks: Int = 256, lockMode: LockMode = .ats) async throws {
        path = directory.file("ds.img")
        let file = try FileBlockDevice.create(path: path, byteCount: size)
        try await file.close()
        reservationTarget = lockMode == .reservations ? try ReservationTarget(path: path) : nil
        let device = try openDevice()
        var options = FormatOptions(label: "test-ds")
        options.fileBlockSize = fileBlockSize
        options.maxHosts = maxHosts
        options.maxDisks = maxDisks
        options.clusterBlocks = clusterBlocks
        options.journalUnits = 32
        options.lockMode = lockMode
        try await Datastore.format(device: device, options: options, clock: clock)
        try await device.close()
    }

    /// A separate open of the image (ATS) or a new nexus to it (reservations), as a host gets.
    func openDevice() throws -> any BlockDevice {
        if let reservationTarget { return reservationTarget.connect() }
        return try FileBlockDevice(path: path)
    }

    func options(clock: ManualDatastoreClock? = nil) -> DatastoreOptions {
        var options = DatastoreOptions()
        options.clock = clock ?? self.clock
        options.runsHeartbeatTask = false
        options.lockWait = .zero
        return options
    }

    /// Mounts through its own open of the image, as a separate host would.
    func mount(_ name: String, uuid: UUID = UUID(), clock: ManualDatastoreClock? = nil, device: (any BlockDevice)? = nil) async throws -> Datastore {
        let device = try device ?? openDevice()
        return try await Datastore.mount(device: device, host: HostIdentity(uuid: uuid, name: name), options: options(clock: clock))
    }

    /// Overwrites `count` bytes of the image at `offset` with a pattern: damage, on purpose.
    static func scribble(_ path: String, at offset: UInt64, count: Int, seed: UInt64) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: Data(pattern(count, seed: seed)))
        try handle.close()
    }

    static func pattern(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
    }
}
