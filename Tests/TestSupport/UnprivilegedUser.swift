// An ordinary user the tests run the product as, the way it is deployed: no root, no
// capabilities, no supplementary groups. setpriv switches to it; files it must use are given to it.

import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

public struct UnprivilegedUser: Sendable, Hashable {
    public let uid: UInt32
    public let gid: UInt32
    /// Supplementary groups; none unless a test gives some.
    public let groups: [UInt32]

    /// A uid and gid no account on a Debian machine has (system accounts stop below 1000, people
    /// below 60000, nobody is 65534): nothing on the host belongs to it, no group lists it, and it
    /// has no home directory, so anything the product reaches beyond what a test gives it fails.
    public static let standard = UnprivilegedUser(uid: 64_201, gid: 64_201)

    public init(uid: UInt32, gid: UInt32, groups: [UInt32] = []) {
        self.uid = uid
        self.gid = gid
        self.groups = groups
    }

    /// This user with another primary group (a member of a control group, say).
    public func withGroup(_ gid: UInt32) -> UnprivilegedUser {
        UnprivilegedUser(uid: uid, gid: gid, groups: groups)
    }

    /// The command line that runs `executable` as this user: real and effective ids switched,
    /// supplementary groups replaced by `groups`, every capability dropped from every set, no new
    /// privileges. The kernel clears a parent-death signal when the ids change, so the one
    /// `ChildProcess.spawn` sets is set again after the switch: the program still dies with the
    /// test process.
    public func commandLine(_ executable: String, _ arguments: [String]) throws(TestSupportError) -> [String] {
        try Self.requireRoot()
        let groupOption = groups.isEmpty ? "--clear-groups" : "--groups=\(groups.map(String.init).joined(separator: ","))"
        return [
            try ExternalTool.setpriv.path(), "--reuid=\(uid)", "--regid=\(gid)", groupOption,
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--pdeathsig=KILL", "--", executable,
        ] + arguments
    }

    /// Runs `executable` as this user to completion (see ExternalCommand.run).
    public func run(_ executable: String, _ arguments: [String], timeout: Duration = ExternalCommand.defaultTimeout) async throws -> CommandResult {
        let line = try commandLine(executable, arguments)
        return try await ExternalCommand.run(executable: line[0], Array(line.dropFirst()), timeout: timeout)
    }

    /// Starts `executable` as this user (see ChildProcess.spawn).
    public func spawn(_ executable: String, _ arguments: [String], stdoutPath: String, stderrPath: String? = nil) async throws -> ChildProcess {
        let line = try commandLine(executable, arguments)
        return try await ChildProcess.spawn(executable: line[0], arguments: Array(line.dropFirst()), stdoutPath: stdoutPath, stderrPath: stderrPath)
    }

    /// Gives `path` (and, for a directory, everything in it) to this user, and lets it through
    /// every directory above, as an administrator would when setting the daemon up.
    public func own(_ path: String) throws(TestSupportError) {
        try Self.requireRoot()
        var paths = [path]
        if let inside = FileManager.default.enumerator(atPath: path) {
            while let entry = inside.nextObject() as? String { paths.append(path + "/" + entry) }
        }
        for entry in paths where lchown(entry, uid, gid) != 0 {
            throw TestSupportError(.systemCallFailed, "cannot give \(entry) to uid \(uid): \(String(cString: strerror(errno)))")
        }
        try Self.makeTraversable(parentsOf: path)
    }

    /// `name` built by this package, at a path this user may execute: in place when every directory
    /// above it lets others through, else a copy in a world-readable directory made once per process
    /// (a checkout under a private home directory would keep an unprivileged user out).
    public static func executable(_ name: String, overriddenBy variable: String) throws(TestSupportError) -> String {
        let built = try BuiltExecutable.path(name, overriddenBy: variable)
        if isReachableByOthers(built) { return built }
        let directory = try stagedBinaries.get()
        let copy = directory + "/" + name
        // One test copies while the others wait, so none runs a half-written binary.
        let failure = stagingLock.withLock { () -> String? in
            guard !FileManager.default.fileExists(atPath: copy) else { return nil }
            do {
                try FileManager.default.copyItem(atPath: built, toPath: copy)
                chmod(copy, 0o755)
                return nil
            } catch {
                try? FileManager.default.removeItem(atPath: copy)
                return "\(error)"
            }
        }
        if let failure {
            throw TestSupportError(.systemCallFailed, "cannot copy \(built) to \(copy) for an unprivileged user: \(failure)")
        }
        return copy
    }

    private static let stagingLock = NIOLock()

    private static let stagedBinaries: Result<String, TestSupportError> = {
        do throws(TestSupportError) {
            let directory = try ScratchDirectory(prefix: "binaries")
            chmod(directory.path, 0o755)
            return .success(directory.path)
        } catch {
            return .failure(error)
        }
    }()

    /// True when others may execute `path` and search every directory above it.
    static func isReachableByOthers(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & 0o005 == 0o005 else { return false }
        var directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        // Bounded by the path's depth.
        while directory.path != "/" {
            guard stat(directory.path, &info) == 0, info.st_mode & 0o001 != 0 else { return false }
            directory.deleteLastPathComponent()
        }
        return true
    }

    /// Adds search permission for others to each directory above `path` that lacks it (the test's
    /// private scratch directories under /tmp are mode 0700).
    private static func makeTraversable(parentsOf path: String) throws(TestSupportError) {
        var directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        var info = stat()
        // Bounded by the path's depth.
        while directory.path != "/" {
            if stat(directory.path, &info) == 0, info.st_mode & 0o001 == 0, chmod(directory.path, info.st_mode & 0o7777 | 0o001) != 0 {
                throw TestSupportError(.systemCallFailed, "cannot let others through \(directory.path): \(String(cString: strerror(errno)))")
            }
            directory.deleteLastPathComponent()
        }
    }

    private static func requireRoot() throws(TestSupportError) {
        guard getuid() == 0 else {
            throw TestSupportError(.invalidConfiguration, "switching to another user needs root; run the tests as root (Scripts/test does)")
        }
    }
}
