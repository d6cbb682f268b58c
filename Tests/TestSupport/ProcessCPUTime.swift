// CPU time of another process, from /proc/PID/stat: how a test proves a child does not spin.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// User plus system CPU time a process has used.
public enum ProcessCPUTime {
    public static func of(_ pid: pid_t) throws -> Duration {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // The command name may hold spaces and parentheses: the fields start after the last ")".
        guard let end = stat.lastIndex(of: ")") else {
            throw TestSupportError(.systemCallFailed, "unreadable /proc/\(pid)/stat: \(stat)")
        }
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
        guard fields.count > 13, let user = Int64(fields[11]), let system = Int64(fields[12]) else {
            throw TestSupportError(.systemCallFailed, "unreadable /proc/\(pid)/stat: \(stat)")
        }
        let ticks = Int64(sysconf(Int32(_SC_CLK_TCK)))
        return .milliseconds((user + system) * 1000 / ticks)
    }

    /// The CPU a process uses while the caller sleeps for `duration`, and the window really
    /// measured: a sleep on a busy machine may last longer than asked, so bound on the window.
    public static func during(_ duration: Duration, of pid: pid_t) async throws -> (cpu: Duration, window: Duration) {
        let before = try of(pid)
        let start = ContinuousClock.now
        try await Task.sleep(for: duration)
        let cpu = try of(pid) - before
        return (cpu, ContinuousClock.now - start)
    }
}
