// Data movement for FileBlockDevice: pread/pwrite loops, durability, holes, WRITE SAME.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOCore

extension FileBlockDevice {
    /// The largest single pattern buffer WRITE SAME builds; bigger ranges are written in pieces.
    static let writeSameChunkBytes = 1 << 20

    public func read(at lba: UInt64, blockCount: Int) async throws -> ByteBuffer {
        try checkOpen("read")
        try checkRange(lba: lba, blockCount: blockCount, operation: "read")
        let blockSize = geometry.blockSize
        let length = blockCount * blockSize
        let offset = Int(lba) * blockSize
        return try await pool.run { [fd, path] in
            var buffer = ByteBufferAllocator().buffer(capacity: length)
            try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { raw in
                try Self.preadFully(fd: fd, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<length]), offset: offset, path: path)
                return length
            }
            return buffer
        }
    }

    public func write(_ data: ByteBuffer, at lba: UInt64, fua: Bool) async throws {
        try checkWritable("write")
        let blockSize = geometry.blockSize
        guard data.readableBytes % blockSize == 0 else {
            throw BlockDeviceError(.invalidArgument, "write of \(data.readableBytes) bytes to \(path) is not a multiple of the block size \(blockSize)")
        }
        try checkRange(lba: lba, blockCount: data.readableBytes / blockSize, operation: "write")
        let offset = Int(lba) * blockSize
        try await pool.run { [fd, path] in
            try data.withUnsafeReadableBytes { bytes in
                try Self.pwriteFully(fd: fd, bytes, offset: offset, path: path)
            }
            if fua { try Self.syncData(fd: fd, path: path) }
        }
    }

    public func flush() async throws {
        try checkOpen("flush")
        try await pool.run { [fd, path] in try Self.syncData(fd: fd, path: path) }
    }

    public func unmap(_ ranges: [BlockRange]) async throws {
        try checkWritable("unmap")
        for range in ranges {
            try checkRange(lba: range.lba, blockCount: Int(range.blockCount), operation: "unmap")
        }
        let blockSize = geometry.blockSize
        try await pool.run { [fd, path] in
            for range in ranges where range.blockCount > 0 {
                try Self.deallocate(fd: fd, offset: Int(range.lba) * blockSize, length: Int(range.blockCount) * blockSize, path: path)
            }
        }
    }

    public func writeSame(_ pattern: ByteBuffer, at lba: UInt64, blockCount: Int, unmap: Bool) async throws {
        try checkWritable("write same")
        let blockSize = geometry.blockSize
        guard pattern.readableBytes == blockSize else {
            throw BlockDeviceError(.invalidArgument, "write same pattern of \(pattern.readableBytes) bytes on \(path) is not one block of \(blockSize)")
        }
        try checkRange(lba: lba, blockCount: blockCount, operation: "write same")
        let isZero = pattern.readableBytesView.allSatisfy { $0 == 0 }
        let offset = Int(lba) * blockSize
        let length = blockCount * blockSize
        // A hole reads as zeros, so a zero pattern may deallocate (what a thin LUN does too).
        if unmap && isZero {
            try await pool.run { [fd, path] in try Self.deallocate(fd: fd, offset: offset, length: length, path: path) }
            return
        }
        let chunkBlocks = max(1, Self.writeSameChunkBytes / blockSize)
        var chunk = ByteBufferAllocator().buffer(capacity: min(blockCount, chunkBlocks) * blockSize)
        for _ in 0..<min(blockCount, chunkBlocks) { chunk.writeImmutableBuffer(pattern) }
        try await pool.run { [fd, path, chunk] in
            var done = 0
            while done < length {
                let piece = min(chunk.readableBytes, length - done)
                try chunk.withUnsafeReadableBytes { bytes in
                    try Self.pwriteFully(fd: fd, UnsafeRawBufferPointer(rebasing: bytes[0..<piece]), offset: offset + done, path: path)
                }
                done += piece
            }
        }
    }

    // MARK: - Blocking helpers (pool threads only)

    static func preadFully(fd: Int32, into buffer: UnsafeMutableRawBufferPointer, offset: Int, path: String) throws {
        var done = 0
        while done < buffer.count {
            let count = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if count < 0 {
                if errno == EINTR { continue }
                throw ioError("read", errno, offset: offset, length: buffer.count, path: path)
            }
            if count == 0 {
                // Past the end of a file that shrank under us: the missing part reads as zeros.
                (buffer.baseAddress! + done).initializeMemory(as: UInt8.self, repeating: 0, count: buffer.count - done)
                return
            }
            done += count
        }
    }

    static func pwriteFully(fd: Int32, _ bytes: UnsafeRawBufferPointer, offset: Int, path: String) throws {
        var done = 0
        while done < bytes.count {
            let count = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if count < 0 {
                if errno == EINTR { continue }
                throw ioError("write", errno, offset: offset, length: bytes.count, path: path)
            }
            done += count
        }
    }

    static func syncData(fd: Int32, path: String) throws {
        while fdatasync(fd) != 0 {
            if errno == EINTR { continue }
            throw BlockDeviceError(errno == EIO ? .mediumError : .deviceError, "fdatasync of image file \(path) failed: \(LinuxFileCalls.errorText(errno))")
        }
    }

    /// Punches a hole, or writes zeros where the file system cannot punch holes.
    static func deallocate(fd: Int32, offset: Int, length: Int, path: String) throws {
        let result = LinuxFileCalls.punchHole(fd: fd, offset: offset, length: length)
        if result == 0 { return }
        guard result == EOPNOTSUPP || result == ENOSYS else {
            throw BlockDeviceError(.deviceError, "cannot deallocate \(length) bytes at offset \(offset) of \(path): \(LinuxFileCalls.errorText(result))")
        }
        let zeros = [UInt8](repeating: 0, count: min(length, writeSameChunkBytes))
        var done = 0
        while done < length {
            let piece = min(zeros.count, length - done)
            try zeros.withUnsafeBytes { bytes in
                try pwriteFully(fd: fd, UnsafeRawBufferPointer(rebasing: bytes[0..<piece]), offset: offset + done, path: path)
            }
            done += piece
        }
    }

    static func ioError(_ operation: String, _ code: Int32, offset: Int, length: Int, path: String) -> BlockDeviceError {
        BlockDeviceError(
            code == EIO ? .mediumError : .deviceError,
            "\(operation) of \(length) bytes at offset \(offset) of image file \(path) failed: \(LinuxFileCalls.errorText(code))"
        )
    }
}
