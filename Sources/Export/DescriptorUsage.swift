// How many file descriptors the process has open, against its RLIMIT_NOFILE soft limit:
// what the export's admission checks so that client connections never take the descriptors
// the rest of the process (target sessions, control socket, datastore files) needs.

import Glibc

/// The process's open descriptors and its current descriptor limit.
struct DescriptorUsage: Sendable, Hashable {
    /// Descriptors open right now.
    var open: Int
    /// The soft RLIMIT_NOFILE, read each time: `prlimit --pid` may change it while we run.
    var limit: Int

    /// Descriptors that can still be opened below the limit (never negative).
    var free: Int { max(0, limit - open) }

    /// Counts /proc/self/fd. The kernel's own test for EMFILE is the lowest free descriptor
    /// number against the limit, so counting is exact while no descriptor sits above a
    /// lowered limit, and errs on the side of "fuller" when some do. When even the directory
    /// cannot be opened (no descriptor left), the process is full. Nil only without /proc or
    /// a readable limit, where there is nothing to go by.
    static func current() -> DescriptorUsage? {
        var limits = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limits) == 0 else { return nil }
        let limit = limits.rlim_cur == rlim_t.max ? Int.max : Int(clamping: limits.rlim_cur)
        guard let directory = opendir("/proc/self/fd") else {
            return errno == EMFILE || errno == ENFILE ? DescriptorUsage(open: limit, limit: limit) : nil
        }
        defer { closedir(directory) }
        var entries = 0
        // Bounded by the open descriptors, which are fewer than the hard limit.
        while let entry = readdir(directory) {
            let first = entry.pointee.d_name.0
            if first != 0x2E { entries += 1 }  // skip "." and ".."
        }
        // The directory's own descriptor is listed too, and is gone once we return.
        return DescriptorUsage(open: max(0, entries - 1), limit: limit)
    }
}
