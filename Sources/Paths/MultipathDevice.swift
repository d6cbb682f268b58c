// One LUN over several paths, shown to the layers above as one BlockDevice.

import BlockDevice
import NIOCore
import SCSI
import Synchronization

/// A logical unit reached through several paths (sessions on either engine), as one `BlockDevice`.
///
/// Every command goes to the path the policy picks. A command that fails because of its path
/// (connection lost, no answer, an ALUA group that takes no I/O) marks that path dead or standby
/// and runs again on another; COMPARE AND WRITE first reads back whether its first attempt
/// landed. With every path dead, commands wait up to `apdTimeout` for one to return and then
/// fail; a probe task opens dead paths again, so the LUN comes back by itself. LOGICAL UNIT NOT
/// SUPPORTED on every path that answers is permanent device loss: commands fail at once with
/// `.deviceLost` until `reopen()`. Paths are grouped by the LUN's VPD 0x83 identity; a path
/// reaching another unit is refused. Persistent reservation keys are registered on every
/// path's I_T nexus, so any path may write under a registrants-only reservation (docs/PATHS.md).
public final class MultipathDevice: BlockDevice {
    struct Inner: Sendable {
        var slots: [PathSlot]
        var selector: PathSelector
        var identity: LUNIdentity
        var geometry: BlockGeometry
        var capabilities: BlockDeviceCapabilities
        /// Whether the unit reports target port groups (REPORT TARGET PORT GROUPS works).
        var hasALUA = false
        /// The key this host registered through the device; registered on every path that opens.
        var registeredKey: UInt64?
        /// The path (and its generation) that made the current persistent reservation.
        var reservationHolder: (index: Int, generation: Int)?
        /// The last time any command or probe completed on any path.
        var lastGood: Duration = .zero
        /// Since when every path has been down (counted from the last good completion), nil otherwise.
        var allDownSince: Duration?
        var allDownTimedOut = false
        /// Set once the unit is gone for good (PDL), with the message commands fail with.
        var lost: String?
        var closed = false
    }

    /// The LUN as messages name it, such as the target's configured name.
    public let name: String
    let options: MultipathOptions
    let inner: Mutex<Inner>
    let signal = PathChangeSignal()
    let clock = ContinuousClock()
    let origin: ContinuousClock.Instant
    public let events: AsyncStream<MultipathEvent>
    let eventSink: AsyncStream<MultipathEvent>.Continuation
    let prober = Mutex<Task<Void, Never>?>(nil)
    /// Commands taken back by `revokeOutstandingCommands` go to no other path.
    let revocation = CommandRevocation()

    static let bufferedEvents = 256

    init(name: String, options: MultipathOptions, inner: Inner, origin: ContinuousClock.Instant) {
        self.name = name
        self.options = options
        self.inner = Mutex(inner)
        self.origin = origin
        (events, eventSink) = AsyncStream.makeStream(of: MultipathEvent.self, bufferingPolicy: .bufferingNewest(Self.bufferedEvents))
    }

    /// Monotonic time since the device was made.
    func now() -> Duration { clock.now - origin }

    // MARK: BlockDevice

    public var geometry: BlockGeometry { inner.withLock { $0.geometry } }

    /// The one thread every open path completes I/O on, when they share it (the daemon opens
    /// a LUN's paths on one event loop), so callers' tasks can run there without hops; nil
    /// when the paths complete on different threads or none is open.
    public var preferredTaskExecutor: (any TaskExecutor)? {
        let executors = inner.withLock { inner in inner.slots.compactMap { $0.device?.preferredTaskExecutor } }
        guard let first = executors.first, executors.allSatisfy({ $0 === first }) else { return nil }
        return first
    }
    public var capabilities: BlockDeviceCapabilities { inner.withLock { $0.capabilities } }

    @discardableResult
    public func refreshGeometry() async throws -> BlockGeometry {
        let geometry = try await perform("READ CAPACITY", kind: .other, bytes: 0) { device, _ in try await device.refreshGeometry() }
        inner.withLock { $0.geometry = geometry }
        return geometry
    }

    public func read(at lba: UInt64, blockCount: Int) async throws -> ByteBuffer {
        try checkRange(lba: lba, blockCount: blockCount, operation: "read")
        return try await perform("read", kind: .read, bytes: blockCount * geometry.blockSize) { device, _ in
            try await device.read(at: lba, blockCount: blockCount)
        }
    }

    public func write(_ data: ByteBuffer, at lba: UInt64, fua: Bool) async throws {
        try await perform("write", kind: .write, bytes: data.readableBytes) { device, _ in
            try await device.write(data, at: lba, fua: fua)
        }
    }

    public func flush() async throws {
        try await perform("flush", kind: .other, bytes: 0) { device, _ in try await device.flush() }
    }

    public func unmap(_ ranges: [BlockRange]) async throws {
        try await perform("unmap", kind: .other, bytes: 0) { device, _ in try await device.unmap(ranges) }
    }

    public func writeSame(_ pattern: ByteBuffer, at lba: UInt64, blockCount: Int, unmap: Bool) async throws {
        try await perform("write same", kind: .other, bytes: 0) { device, _ in
            try await device.writeSame(pattern, at: lba, blockCount: blockCount, unmap: unmap)
        }
    }

    /// Runs on one path; after a path failure the retry first reads the blocks on the new path:
    /// holding `replacement` means the first attempt landed (success), anything but `expected`
    /// means it did not and someone else wrote (miscompare), `expected` means try again.
    public func compareAndWrite(at lba: UInt64, expected: ByteBuffer, replacement: ByteBuffer) async throws {
        try await perform("compare and write", kind: .write, bytes: replacement.readableBytes) { device, isRetry in
            if isRetry {
                let blockCount = expected.readableBytes / max(1, device.geometry.blockSize)
                let current = try await device.read(at: lba, blockCount: blockCount)
                if current == replacement, current != expected { return }
                if current != expected {
                    throw BlockDeviceError(.miscompare, "compare and write at LBA \(lba) of \(self.name) found different data after a failover", miscompareOffset: Self.firstDifference(current, expected))
                }
            }
            try await device.compareAndWrite(at: lba, expected: expected, replacement: replacement)
        }
    }

    public func readReservationKeys() async throws -> PersistentReservationKeys {
        try await perform("read reservation keys", kind: .other, bytes: 0) { device, _ in try await device.readReservationKeys() }
    }

    public func readReservation() async throws -> PersistentReservationStatus {
        try await perform("read reservation", kind: .other, bytes: 0) { device, _ in try await device.readReservation() }
    }

    /// Whether `close()` has been called.
    public var isClosed: Bool { inner.withLock { $0.closed } }

    /// Closes every path and ends the probe task; later commands fail with `.closed`.
    public func close() async throws {
        let devices = inner.withLock { inner -> [any SCSIBlockCommands] in
            guard !inner.closed else { return [] }
            inner.closed = true
            defer { for index in inner.slots.indices { inner.slots[index].device = nil } }
            return inner.slots.compactMap(\.device)
        }
        prober.withLock { task in
            task?.cancel()
            task = nil
        }
        signal.signal()
        eventSink.finish()
        for device in devices { try? await device.close() }
    }

    /// Takes back every command not yet completed: those waiting for a path or about to move
    /// to another fail with `.fenced` at once, and every open path is revoked in turn (its
    /// connection reset, so nothing it held unsent reaches the target) and left dead for the
    /// prober to open again; later commands wait for it as for any path that came back.
    public func revokeOutstandingCommands(reason: String) async {
        revocation.revoke(reason: reason)
        signal.signal()
        let open = inner.withLock { inner in
            inner.slots.indices.compactMap { index -> (Int, Int, any SCSIBlockCommands)? in
                inner.slots[index].device.map { (index, inner.slots[index].generation, $0) }
            }
        }
        for (index, generation, device) in open {
            await device.revokeOutstandingCommands(reason: reason)
            pathFailed(index, generation: generation, reason: "its commands were revoked (\(reason)); it opens again at the next probe", commandFailed: false, penalize: false)
        }
    }

    static func firstDifference(_ a: ByteBuffer, _ b: ByteBuffer) -> Int? {
        let left = a.readableBytesView
        let right = b.readableBytesView
        for (offset, pair) in zip(left, right).enumerated() where pair.0 != pair.1 { return offset }
        return nil
    }
}
