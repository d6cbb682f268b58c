// CPU time of the calling thread (getrusage RUSAGE_THREAD), to prove a failed connection leaves no busy loop.

#if canImport(Glibc)
import Glibc
#endif

/// User plus system CPU time one thread has used.
///
/// Per thread rather than per process because the test suite runs in parallel:
/// other tests' work would drown a process-wide figure, while the event loop a
/// session runs on is exactly where a spinning decoder or timer would burn.
public enum ThreadCPUTime {
    public static func current() -> Duration {
        var usage = rusage()
        // RUSAGE_THREAD (1) is declared only under _GNU_SOURCE, which Swift's Glibc module does not set.
        let status = getrusage(__rusage_who_t(1), &usage)
        precondition(status == 0, "getrusage(RUSAGE_THREAD) failed with errno \(errno)")
        func duration(_ time: timeval) -> Duration {
            .seconds(Int64(time.tv_sec)) + .microseconds(Int64(time.tv_usec))
        }
        return duration(usage.ru_utime) + duration(usage.ru_stime)
    }
}
