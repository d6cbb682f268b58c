// The rule every file holding a secret obeys (the daemon's secrets file, a CHAP secret file
// vdiskctl reads): nobody but its owner, the user reading it, may read it.

#if canImport(Glibc)
import Glibc
#endif

public enum SecretFilePrivacy {
    /// Why the file at `path` may not hold secrets, or nil when it may: it must exist, be a
    /// regular file, be closed to group and others, and belong to the user reading it.
    /// `name` opens each message ("the secrets file"); `missingHint` follows a failed stat.
    public static func problem(_ path: String, name: String, missingHint: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return "cannot read \(name) (\(String(cString: strerror(errno)))); \(missingHint)"
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            return "\(name) is not a regular file"
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            return "\(name) can be read or written by group or others (mode \(String(mode, radix: 8))); run chmod 600 \(path)"
        }
        guard info.st_uid == geteuid() else {
            return "\(name) belongs to user id \(info.st_uid), not to the user reading it (\(geteuid())); chown it to that user"
        }
        return nil
    }
}
