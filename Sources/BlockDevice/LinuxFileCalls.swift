// Linux file calls that Swift's Glibc module does not export (they sit behind
// _GNU_SOURCE in the C headers): OFD byte-range locks and fallocate hole punching.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Thin wrappers over the Linux-only calls `FileBlockDevice` needs.
enum LinuxFileCalls {
    // Values from <linux/fcntl.h> and <linux/falloc.h>; they are the same on every Linux architecture.
    static let ofdSetLock: Int32 = 37  // F_OFD_SETLK (non-blocking)
    static let fallocKeepSize: Int32 = 0x01  // FALLOC_FL_KEEP_SIZE
    static let fallocPunchHole: Int32 = 0x02  // FALLOC_FL_PUNCH_HOLE

    private typealias FallocateFunction = @convention(c) (Int32, Int32, Int, Int) -> Int32

    /// fallocate(2), looked up once at run time because the header hides it from Swift.
    private static let fallocateFunction: FallocateFunction? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "fallocate") else { return nil }
        return unsafeBitCast(symbol, to: FallocateFunction.self)
    }()

    /// Deallocates `length` bytes at `offset` without changing the file size; afterwards they read as zeros.
    /// Returns 0, or an errno value (EOPNOTSUPP when the file system cannot punch holes).
    static func punchHole(fd: Int32, offset: Int, length: Int) -> Int32 {
        guard let fallocate = fallocateFunction else { return EOPNOTSUPP }
        while true {
            if fallocate(fd, fallocPunchHole | fallocKeepSize, offset, length) == 0 { return 0 }
            if errno != EINTR { return errno }
        }
    }

    /// Takes (`F_WRLCK`) or drops (`F_UNLCK`) an open-file-description lock on a byte range.
    /// While another description holds a conflicting lock it retries, for at most `timeout`
    /// seconds: a holder that was stopped (SIGSTOP) must not hang every other host forever.
    /// Returns 0 or an errno value (EAGAIN when the time ran out).
    static func ofdLock(fd: Int32, type: Int32, offset: Int, length: Int, timeout: Double = 10) -> Int32 {
        var lock = flock()
        lock.l_type = Int16(type)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = offset
        lock.l_len = length
        lock.l_pid = 0  // OFD locks require 0 here
        let pauseMicroseconds: UInt32 = 200
        let attempts = max(1, Int(timeout * 1_000_000) / Int(pauseMicroseconds))
        for _ in 0..<attempts {
            if fcntl(fd, ofdSetLock, &lock) == 0 { return 0 }
            let code = errno
            guard code == EINTR || code == EAGAIN || code == EACCES else { return code }
            if code != EINTR { usleep(pauseMicroseconds) }
        }
        return EAGAIN
    }

    static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
