// What a valid config names on this host, checked as the user the daemon runs as: the groups
// exist, the daemon may give its socket to its group, and it can use the directories it needs.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `--check` and the start run these after the config parsed, so a group, user or path the daemon
/// cannot use is reported before anything starts, in the config's own FILE:LINE: KEY: form. They
/// ask the kernel as the current process (access(2), the process's groups), which is the daemon's
/// user when run as it: `runuser -u vdiskd -- vdiskd --check` checks what the unit will meet.
public enum HostCheck {
    /// Every problem found; empty when the daemon can use everything the config names.
    public static func problems(in config: DaemonConfig) -> [ConfigError] {
        var errors: [ConfigError] = []
        func fail(_ key: String, _ message: String) {
            errors.append(ConfigError(file: config.path, line: config.keyLines.line(section: "daemon", index: nil, key: key), key: "daemon.\(key)", message: message))
        }
        let daemon = config.daemon
        if let name = daemon.socketGroup {
            if let gid = groupID(name) {
                // chown(2) to a group needs CAP_CHOWN unless the caller is in that group.
                if geteuid() != 0 && !processGroups().contains(gid) {
                    fail("socket_group", "the daemon's user (uid \(geteuid())) is not in group \"\(name)\", so it cannot give the control socket to it; add the user to the group (or SupplementaryGroups=\(name) in the unit), or leave socket_group empty")
                }
            } else {
                fail("socket_group", "group \"\(name)\" does not exist on this host; create it (groupadd \(name)) or change socket_group")
            }
        }
        if let name = daemon.controlGroup, groupID(name) == nil {
            fail("control_group", "group \"\(name)\" does not exist on this host; create it (groupadd \(name)) or change control_group")
        }
        let socketLimit = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1
        if daemon.controlSocket.utf8.count > socketLimit {
            fail("control_socket", "\(daemon.controlSocket) is longer than a Unix socket path may be (\(socketLimit) bytes)")
        }
        let socketDirectory = (daemon.controlSocket as NSString).deletingLastPathComponent
        if let problem = directoryProblem(socketDirectory, creator: "RuntimeDirectory=vdiskd") {
            fail("control_socket", "the socket's directory \(problem)")
        }
        if let problem = directoryProblem(daemon.stateDirectory, creator: "StateDirectory=vdiskd") {
            fail("state_directory", problem)
        }
        if let secrets = daemon.secretsFile, access(secrets, F_OK) != 0, errno == EACCES {
            fail("secrets_file", "uid \(geteuid()) cannot reach \(secrets) (permission denied on a directory above it); let the daemon's user through, or move the file")
        }
        return errors
    }

    /// Makes the control socket's and the state directory when they are missing (systemd makes
    /// them under the unit; a daemon run by hand makes its own), the state directory private.
    public static func makeDirectories(for config: DaemonConfig) throws(ConfigInvalid) {
        let socketDirectory = (config.daemon.controlSocket as NSString).deletingLastPathComponent
        for (directory, mode, key) in [(socketDirectory, 0o755, "control_socket"), (config.daemon.stateDirectory, 0o750, "state_directory")] {
            guard !FileManager.default.fileExists(atPath: directory) else { continue }
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: mode])
            } catch {
                throw ConfigInvalid(errors: [ConfigError(file: config.path, line: config.keyLines.line(section: "daemon", index: nil, key: key), key: "daemon.\(key)",
                                                         message: "cannot create \(directory): \(error.localizedDescription)")])
            }
        }
    }

    /// Why the daemon cannot keep files in `path`, or nil when it can (or can create it).
    static func directoryProblem(_ path: String, creator: String) -> String? {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { return "\(path) is not a directory" }
            guard access(path, W_OK | X_OK) == 0 else {
                return "\(path) is not writable by the daemon's user (uid \(geteuid())); it is owned by uid \(info.st_uid) with mode \(String(info.st_mode & 0o7777, radix: 8)): give it to that user (systemd's \(creator) does)"
            }
            return nil
        }
        guard errno == ENOENT else {
            return "\(path) cannot be reached by the daemon's user (uid \(geteuid())): \(String(cString: strerror(errno)))"
        }
        // Missing: fine when the nearest existing directory above lets the daemon create it.
        var parent = (path as NSString).deletingLastPathComponent
        // Bounded by the path's depth.
        while parent != "/" && !FileManager.default.fileExists(atPath: parent) {
            parent = (parent as NSString).deletingLastPathComponent
        }
        guard access(parent, W_OK | X_OK) == 0 else {
            return "\(path) does not exist, and the daemon's user (uid \(geteuid())) cannot create it in \(parent); create it for that user (systemd's \(creator) does)"
        }
        return nil
    }

    private static func groupID(_ name: String) -> gid_t? {
        getgrnam(name)?.pointee.gr_gid
    }

    /// The effective group and the supplementary groups of this process.
    private static func processGroups() -> Set<gid_t> {
        let count = getgroups(0, nil)
        var groups = [gid_t](repeating: 0, count: Int(max(count, 0)))
        let filled = groups.withUnsafeMutableBufferPointer { getgroups(Int32($0.count), $0.baseAddress) }
        return Set(groups.prefix(Int(max(filled, 0)))).union([getegid()])
    }
}
