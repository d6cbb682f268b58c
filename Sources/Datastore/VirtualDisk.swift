// An open virtual disk: a BlockDevice for the layers above, mapped onto the LUN
// through its block map, with thin allocation on first write.

import BlockDevice
import NIOConcurrencyHelpers
import NIOCore
import SCSI

/// A disk opened on a mounted ``Datastore``.
///
/// Reads and writes at byte granularity (`read(offset:length:)`, `write(_:offset:fua:)`)
/// or in blocks of `blockSize` (the `BlockDevice` face). Requests are split at file-block
/// boundaries; holes read as zeros without touching the LUN. Mapping a block costs a
/// descriptor lookup or a cached pointer page lookup; metadata locks are taken only
/// when a write needs new blocks.
public final class VirtualDisk: BlockDevice {
    public let datastore: Datastore
    public let mode: DiskOpenMode
    let index: Int
    let cache: BlockMapCache
    /// Orders allocations and COMPARE AND WRITEs of this disk.
    let changeLock = AsyncSerialLock()
    private let blockBytes: Int

    struct State {
        var descriptor: DiskDescriptor
        var closed = false
    }

    let state: NIOLockedValueBox<State>

    init(datastore: Datastore, index: Int, descriptor: DiskDescriptor, mode: DiskOpenMode, blockSize: Int) {
        self.datastore = datastore
        self.index = index
        self.mode = mode
        self.blockBytes = blockSize
        self.cache = BlockMapCache(byteLimit: datastore.options.mapCacheBytes)
        self.state = NIOLockedValueBox(State(descriptor: descriptor))
    }

    public var name: String { state.withLockedValue { $0.descriptor.name } }
    public var size: UInt64 { state.withLockedValue { $0.descriptor.size } }
    public var info: DiskInfo {
        DiskInfo(state.withLockedValue { $0.descriptor }, index: index, fileBlockSize: datastore.fileBlockSize)
    }
    /// Bytes the pointer-page cache holds now.
    public var mapCacheBytes: Int { cache.residentBytes }

    public var geometry: BlockGeometry {
        BlockGeometry(blockSize: blockBytes, blockCount: size / UInt64(blockBytes))
    }

    /// The datastore LUN's: a disk's I/O completes where its LUN's does.
    public var preferredTaskExecutor: (any TaskExecutor)? { datastore.device.preferredTaskExecutor }

    public var capabilities: BlockDeviceCapabilities {
        mode == .exclusive
            ? [.unmap, .writeSame, .writeSameUnmap, .compareAndWrite, .unmappedReadsZero, .forceUnitAccess]
            : [.unmappedReadsZero]
    }

    @discardableResult
    public func refreshGeometry() async throws -> BlockGeometry { geometry }

    /// Grows the disk while it is open; callers see the new geometry at once.
    public func grow(to newSize: UInt64) async throws {
        try checkUsable("grow", writing: true)
        try await datastore.metadataLock.withLock {
            let current = state.withLockedValue { $0.descriptor }
            do {
                let grown = try await datastore.grow(index: index, descriptor: current, to: newSize, cache: cache)
                state.withLockedValue { $0.descriptor = grown }
            } catch let error as DatastoreError {
                throw BlockDeviceError(error.code == .fenced ? .fenced : .invalidArgument, error.message, underlying: error)
            }
        }
    }

    public func close() async throws {
        let wasOpen = state.withLockedValue { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard wasOpen else { return }
        cache.removeAll()
        try await datastore.closeDisk(index: index, mode: mode)
    }

    /// Fencing and mode checks every I/O makes: an atomic read and a clock read.
    func checkUsable(_ operation: String, writing: Bool) throws {
        if state.withLockedValue({ $0.closed }) {
            throw BlockDeviceError(.closed, "\(operation) on disk '\(name)' after it was closed")
        }
        do {
            try datastore.checkLive("\(operation) on disk '\(name)'")
        } catch let error as DatastoreError {
            throw BlockDeviceError(.fenced, error.message, underlying: error)
        }
        if writing && mode != .exclusive {
            throw BlockDeviceError(.readOnly, "\(operation) on disk '\(name)', which is open shared read-only")
        }
    }

    public func persistentReserveOut(_ request: PersistentReserveOutRequest) async throws {
        throw BlockDeviceError(.notSupported, "disk '\(name)' does not emulate persistent reservations")
    }

    public func readReservationKeys() async throws -> PersistentReservationKeys {
        throw BlockDeviceError(.notSupported, "disk '\(name)' does not emulate persistent reservations")
    }

    public func readReservation() async throws -> PersistentReservationStatus {
        throw BlockDeviceError(.notSupported, "disk '\(name)' does not emulate persistent reservations")
    }
}
