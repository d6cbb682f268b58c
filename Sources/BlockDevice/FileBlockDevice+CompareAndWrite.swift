// COMPARE AND WRITE on an image file, atomic across processes through an OFD byte-range lock.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOCore

extension FileBlockDevice {
    public func compareAndWrite(at lba: UInt64, expected: ByteBuffer, replacement: ByteBuffer) async throws {
        try checkWritable("compare and write")
        let blockSize = geometry.blockSize
        guard expected.readableBytes == replacement.readableBytes,
              expected.readableBytes > 0,
              expected.readableBytes % blockSize == 0
        else {
            throw BlockDeviceError(
                .invalidArgument,
                "compare and write on \(path) needs equal whole-block buffers (got \(expected.readableBytes) and \(replacement.readableBytes) bytes, block size \(blockSize))"
            )
        }
        try checkRange(lba: lba, blockCount: expected.readableBytes / blockSize, operation: "compare and write")
        let offset = Int(lba) * blockSize
        let length = expected.readableBytes
        try await pool.run { [fd, path, compareAndWriteLock] in
            // The in-process lock orders this device's own callers; the OFD lock orders
            // every other open of the file, in this process or another one.
            try compareAndWriteLock.withLock {
                let locked = LinuxFileCalls.ofdLock(fd: fd, type: Int32(F_WRLCK), offset: offset, length: length)
                guard locked == 0 else {
                    throw BlockDeviceError(locked == EAGAIN ? .busy : .deviceError, "cannot lock \(length) bytes at offset \(offset) of \(path) for compare and write: \(LinuxFileCalls.errorText(locked))")
                }
                defer { _ = LinuxFileCalls.ofdLock(fd: fd, type: Int32(F_UNLCK), offset: offset, length: length) }
                var current = [UInt8](repeating: 0, count: length)
                try current.withUnsafeMutableBytes { raw in
                    try Self.preadFully(fd: fd, into: raw, offset: offset, path: path)
                }
                let difference = expected.withUnsafeReadableBytes { wanted -> Int? in
                    for index in 0..<length where wanted[index] != current[index] { return index }
                    return nil
                }
                if let difference {
                    throw BlockDeviceError(
                        .miscompare,
                        "compare and write at LBA \(lba) of \(path): data differs at byte \(difference)",
                        miscompareOffset: difference
                    )
                }
                try replacement.withUnsafeReadableBytes { bytes in
                    try Self.pwriteFully(fd: fd, bytes, offset: offset, path: path)
                }
            }
        }
    }
}
