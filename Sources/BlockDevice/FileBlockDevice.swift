// A BlockDevice over a local (usually sparse) image file: the unit-test stand-in for
// a LUN, and the way vdiskctl works on datastore images without any target.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOConcurrencyHelpers
import NIOCore
import SCSI

/// A block device backed by a regular file.
///
/// Reads and writes are `pread`/`pwrite` on a ``BlockingIOPool`` thread; FUA and
/// flush are `fdatasync`; UNMAP punches holes (which read back as zeros).
/// COMPARE AND WRITE holds an open-file-description lock on the range around the
/// read, compare and write, so two processes (or two devices in one process)
/// opening the same image get the atomicity a SCSI target gives.
/// Persistent reservations are not emulated: they fail with `.notSupported`.
public final class FileBlockDevice: BlockDevice {
    public let path: String
    public let capabilities: BlockDeviceCapabilities
    public let isReadOnly: Bool

    let fd: Int32
    let pool: BlockingIOPool
    /// Serializes this device's own COMPARE AND WRITEs: they share one open file
    /// description, and OFD locks do not exclude holders of the same description.
    let compareAndWriteLock = NIOLock()

    private struct State {
        var geometry: BlockGeometry
        var closed = false
    }

    private let state: NIOLockedValueBox<State>

    /// Opens an existing image. Its size is rounded down to whole blocks.
    public init(path: String, blockSize: Int = 512, readOnly: Bool = false, pool: BlockingIOPool = .shared) throws {
        guard blockSize >= 512, blockSize & (blockSize - 1) == 0 else {
            throw BlockDeviceError(.invalidArgument, "block size \(blockSize) for \(path) is not a power of two of at least 512")
        }
        let descriptor = open(path, (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            throw BlockDeviceError(
                code == ENOENT ? .invalidArgument : .deviceError,
                "cannot open image file \(path): \(LinuxFileCalls.errorText(code))"
            )
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let code = errno
            Glibc.close(descriptor)
            throw BlockDeviceError(.deviceError, "cannot stat image file \(path): \(LinuxFileCalls.errorText(code))")
        }
        self.path = path
        self.fd = descriptor
        self.pool = pool
        self.isReadOnly = readOnly
        self.state = NIOLockedValueBox(State(
            geometry: BlockGeometry(blockSize: blockSize, blockCount: UInt64(info.st_size) / UInt64(blockSize))
        ))
        var capabilities: BlockDeviceCapabilities = [
            .unmap, .writeSame, .writeSameUnmap, .compareAndWrite, .unmappedReadsZero, .forceUnitAccess,
        ]
        if readOnly { capabilities.subtract([.unmap, .writeSameUnmap]) }
        self.capabilities = capabilities
    }

    /// Creates (or truncates) a sparse image of `byteCount` bytes and opens it.
    public static func create(
        path: String, byteCount: UInt64, blockSize: Int = 512, pool: BlockingIOPool = .shared
    ) throws -> FileBlockDevice {
        guard byteCount % UInt64(max(blockSize, 1)) == 0 else {
            throw BlockDeviceError(.invalidArgument, "image size \(byteCount) for \(path) is not a multiple of the block size \(blockSize)")
        }
        let descriptor = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw BlockDeviceError(.deviceError, "cannot create image file \(path): \(LinuxFileCalls.errorText(errno))")
        }
        defer { Glibc.close(descriptor) }
        guard ftruncate(descriptor, off_t(byteCount)) == 0 else {
            throw BlockDeviceError(.deviceError, "cannot size image file \(path) to \(byteCount) bytes: \(LinuxFileCalls.errorText(errno))")
        }
        return try FileBlockDevice(path: path, blockSize: blockSize, pool: pool)
    }

    deinit {
        let wasOpen = state.withLockedValue { state in
            defer { state.closed = true }
            return !state.closed
        }
        if wasOpen { Glibc.close(fd) }
    }

    public var geometry: BlockGeometry { state.withLockedValue { $0.geometry } }

    @discardableResult
    public func refreshGeometry() async throws -> BlockGeometry {
        try checkOpen("refresh geometry")
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw BlockDeviceError(.deviceError, "cannot stat image file \(path): \(LinuxFileCalls.errorText(errno))")
        }
        return state.withLockedValue { state in
            state.geometry.blockCount = UInt64(info.st_size) / UInt64(state.geometry.blockSize)
            return state.geometry
        }
    }

    public func close() async throws {
        let wasOpen = state.withLockedValue { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard wasOpen else { return }
        // Let running pool jobs finish with the descriptor before it is reused.
        try await pool.run { [fd] in _ = Glibc.close(fd) }
    }

    func checkOpen(_ operation: String) throws {
        if state.withLockedValue({ $0.closed }) {
            throw BlockDeviceError(.closed, "\(operation) on image file \(path) after it was closed")
        }
    }

    func checkWritable(_ operation: String) throws {
        try checkOpen(operation)
        if isReadOnly {
            throw BlockDeviceError(.readOnly, "\(operation) on image file \(path), which was opened read-only")
        }
    }

    // Persistent reservations need a target; a local file has nobody to arbitrate them.

    public func persistentReserveOut(_ request: PersistentReserveOutRequest) async throws {
        throw BlockDeviceError(.notSupported, "persistent reservations are not supported on image file \(path)")
    }

    public func readReservationKeys() async throws -> PersistentReservationKeys {
        throw BlockDeviceError(.notSupported, "persistent reservations are not supported on image file \(path)")
    }

    public func readReservation() async throws -> PersistentReservationStatus {
        throw BlockDeviceError(.notSupported, "persistent reservations are not supported on image file \(path)")
    }
}
