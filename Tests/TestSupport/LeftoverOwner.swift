// Names that carry the PID of the test process that made them ("vdct1234-2-br", "vdpl1234-1-host"),
// so that a later run can tell what a killed run left behind.

#if canImport(Glibc)
import Glibc
#endif

public enum LeftoverOwner {
    /// Whether `name` starts with `prefix` and the PID after it names a process that is gone.
    /// Names of this process, of live processes, and without a PID are never orphans.
    public static func isOrphan(_ name: String, prefix: String) -> Bool {
        guard name.hasPrefix(prefix) else {
            return false
        }
        let digits = name.dropFirst(prefix.count).prefix { $0.isNumber }
        guard let owner = pid_t(digits) else {
            return false
        }
        return owner != getpid() && kill(owner, 0) != 0 && errno == ESRCH
    }
}
