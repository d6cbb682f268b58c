// Asks the kernel whether a PID still names a live process.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

enum ProcessProbe {
    /// Gone means no such process, or only a zombie left for init to reap
    /// (a child orphaned by a killed parent is not ours to reap).
    static func isGone(_ pid: pid_t) -> Bool {
        if kill(pid, 0) != 0 {
            return errno == ESRCH
        }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // "PID (comm) STATE ...": the state follows the last ')'.
        guard let close = stat.lastIndex(of: ")") else {
            return true
        }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }
}
