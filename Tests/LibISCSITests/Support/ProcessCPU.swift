// CPU time used by this whole process so far (getrusage), for the no-spin checks.

import Foundation

enum ProcessCPU {
    /// User plus system time of the process, in nanoseconds.
    static func now() -> Int64 {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        func nanoseconds(_ time: timeval) -> Int64 { Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_usec) * 1000 }
        return nanoseconds(usage.ru_utime) + nanoseconds(usage.ru_stime)
    }
}
