// The face every block store shows the layers above it: a LUN over the native
// initiator, a LUN over libiscsi, a local file, or (later) a virtual disk.

import NIOCore
import SCSI

/// Size and shape of a block device.
public struct BlockGeometry: Sendable, Hashable, CustomStringConvertible {
    /// Bytes per logical block (512 or 4096 in practice).
    public var blockSize: Int
    /// Number of logical blocks.
    public var blockCount: UInt64

    public init(blockSize: Int, blockCount: UInt64) {
        precondition(blockSize > 0 && blockSize & (blockSize - 1) == 0, "block size must be a power of two")
        self.blockSize = blockSize
        self.blockCount = blockCount
    }

    public var byteCount: UInt64 { blockCount * UInt64(blockSize) }

    public var description: String { "\(blockCount) blocks of \(blockSize) bytes" }
}

/// Optional operations a device supports; probed once when it is opened.
public struct BlockDeviceCapabilities: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let unmap = Self(rawValue: 1 << 0)
    public static let writeSame = Self(rawValue: 1 << 1)
    /// WRITE SAME with the UNMAP bit deallocates.
    public static let writeSameUnmap = Self(rawValue: 1 << 2)
    public static let compareAndWrite = Self(rawValue: 1 << 3)
    public static let persistentReservations = Self(rawValue: 1 << 4)
    /// Unmapped blocks read back as zeros (LBPRZ).
    public static let unmappedReadsZero = Self(rawValue: 1 << 5)
    public static let forceUnitAccess = Self(rawValue: 1 << 6)
}

/// A contiguous run of logical blocks.
public struct BlockRange: Sendable, Hashable, CustomStringConvertible {
    public var lba: UInt64
    public var blockCount: UInt32

    public init(lba: UInt64, blockCount: UInt32) {
        self.lba = lba
        self.blockCount = blockCount
    }

    public var description: String { "LBA \(lba)+\(blockCount)" }
}

/// A store of fixed-size logical blocks.
///
/// Every method may be called from any task, concurrently. Buffers passed in are
/// not retained past the call's completion; buffers returned belong to the caller.
/// Ranges are checked against `geometry` before any I/O and fail with
/// `BlockDeviceError.Code.outOfRange`.
public protocol BlockDevice: AnyObject, Sendable {
    /// The geometry as last known; `refreshGeometry()` asks the device again.
    var geometry: BlockGeometry { get }
    var capabilities: BlockDeviceCapabilities { get }

    /// Re-reads the capacity (after the device grew, for instance).
    @discardableResult
    func refreshGeometry() async throws -> BlockGeometry

    /// Reads `blockCount` blocks starting at `lba`.
    func read(at lba: UInt64, blockCount: Int) async throws -> ByteBuffer

    /// Writes whole blocks; `data.readableBytes` must be a multiple of the block size.
    /// With `fua` the data is durable when this returns.
    func write(_ data: ByteBuffer, at lba: UInt64, fua: Bool) async throws

    /// Makes every completed write durable (SYNCHRONIZE CACHE).
    func flush() async throws

    /// Deallocates the ranges; fails with `.notSupported` without `.unmap`.
    func unmap(_ ranges: [BlockRange]) async throws

    /// Writes one block's pattern over `blockCount` blocks; with `unmap` the device
    /// may deallocate instead (only when it has `.writeSameUnmap`).
    func writeSame(_ pattern: ByteBuffer, at lba: UInt64, blockCount: Int, unmap: Bool) async throws

    /// Atomically compares `expected` with the blocks at `lba` and, if equal, writes `replacement`.
    /// A mismatch throws `.miscompare` with the offset of the first differing byte.
    func compareAndWrite(at lba: UInt64, expected: ByteBuffer, replacement: ByteBuffer) async throws

    func persistentReserveOut(_ request: PersistentReserveOutRequest) async throws
    func readReservationKeys() async throws -> PersistentReservationKeys
    func readReservation() async throws -> PersistentReservationStatus

    /// Releases the device's resources; later calls fail with `.closed`.
    func close() async throws

    /// Takes back every command accepted before this call that has not completed: each fails
    /// with `.fenced` naming `reason`, and none is sent, or sent again, to the storage after
    /// this returns. A command the storage had already received may still run there; one held
    /// for a reconnection, queued behind a failed path, or unsent in a connection given up for
    /// lost never does. Commands issued afterwards run as usual.
    ///
    /// A datastore calls this as it fences: whatever it issued before its lease ran out must
    /// not land after another host has broken its locks (a session recovered when a cut link
    /// came back would otherwise replay the writes it held). A device that hands every command
    /// straight to its medium and keeps none for later, such as a file, has nothing to take
    /// back; that is the default.
    func revokeOutstandingCommands(reason: String) async

    /// Where this device completes I/O, when that is one thread: callers issuing many
    /// I/Os may run their tasks there (`withTaskExecutorPreference`) to avoid thread hops.
    var preferredTaskExecutor: (any TaskExecutor)? { get }
}

extension BlockDevice {
    public var preferredTaskExecutor: (any TaskExecutor)? { nil }

    /// Nothing is held for later: every command went straight to the medium.
    public func revokeOutstandingCommands(reason: String) async {}

    /// Writes without FUA.
    public func write(_ data: ByteBuffer, at lba: UInt64) async throws {
        try await write(data, at: lba, fua: false)
    }

    /// Throws `.outOfRange` unless `blockCount` blocks at `lba` lie inside the device.
    public func checkRange(lba: UInt64, blockCount: Int, operation: String) throws {
        let geometry = self.geometry
        guard blockCount >= 0,
              lba <= geometry.blockCount,
              UInt64(blockCount) <= geometry.blockCount - lba
        else {
            throw BlockDeviceError(
                .outOfRange,
                "\(operation) of \(blockCount) blocks at LBA \(lba) is past the end of the device (\(geometry))"
            )
        }
    }
}
