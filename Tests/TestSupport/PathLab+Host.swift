// Running the initiator side in a path lab's host namespace: tools and daemons as the ordinary
// user the product is deployed as (or as root where a test needs it), and root commands in the
// target namespace.

import Foundation

extension PathLab {
    /// The command line that runs `executable` in the host namespace: `ip netns exec` (which
    /// execs, so the PID is the program's), then setpriv to `user` unless it is nil (root).
    public func hostCommandLine(_ executable: String, _ arguments: [String], as user: UnprivilegedUser? = .standard) throws -> [String] {
        let inside = try user?.commandLine(executable, arguments) ?? [executable] + arguments
        return [try ExternalTool.ip.path(), "netns", "exec", hostNamespace] + inside
    }

    /// Runs `executable` in the host namespace to completion (see ExternalCommand.run): a
    /// non-zero exit is a result, a timeout throws.
    public func runInHost(
        _ executable: String,
        _ arguments: [String],
        as user: UnprivilegedUser? = .standard,
        timeout: Duration = ExternalCommand.defaultTimeout
    ) async throws -> CommandResult {
        let line = try hostCommandLine(executable, arguments, as: user)
        return try await ExternalCommand.run(executable: line[0], Array(line.dropFirst()), timeout: timeout)
    }

    /// Runs a harness tool (iscsi-inq, qemu-io, …) in the host namespace; see `runInHost`.
    public func runInHost(
        _ tool: ExternalTool,
        _ arguments: [String],
        as user: UnprivilegedUser? = .standard,
        timeout: Duration = ExternalCommand.defaultTimeout
    ) async throws -> CommandResult {
        try await runInHost(try tool.path(), arguments, as: user, timeout: timeout)
    }

    /// Starts `executable` in the host namespace (a daemon such as vdiskd, a load generator);
    /// the test stops it by PID, and it dies with the test process if that is killed. Its output
    /// goes to the files named (stderr to stdout's file when nil).
    public func spawnInHost(
        _ executable: String,
        _ arguments: [String],
        as user: UnprivilegedUser? = .standard,
        stdoutPath: String,
        stderrPath: String? = nil
    ) async throws -> ChildProcess {
        let line = try hostCommandLine(executable, arguments, as: user)
        return try await ChildProcess.spawn(executable: line[0], arguments: Array(line.dropFirst()), stdoutPath: stdoutPath, stderrPath: stderrPath)
    }

    /// A new folder `name` in the lab's folder, given to `user` (with the folders above made
    /// passable), for what a program run as that user writes: a daemon's config, control
    /// socket, state. Removed with the lab.
    public func folder(_ name: String, for user: UnprivilegedUser = .standard) throws -> String {
        let path = directory.file(name)
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw TestSupportError(.systemCallFailed, "cannot create \(path) in the path lab's folder: \(error)")
        }
        try user.own(path)
        return path
    }

    /// Runs `executable` as root in the target namespace (`ss`, a second tool beside tgtd).
    public func runInTarget(_ executable: String, _ arguments: [String], timeout: Duration = ExternalCommand.defaultTimeout) async throws -> CommandResult {
        try await ExternalCommand.run(.ip, ["netns", "exec", targetNamespace, executable] + arguments, timeout: timeout)
    }

    /// The established TCP connections to tgtd's portals, from `ss` in the target namespace:
    /// which portal each session's connection reached, and from which host address (a source
    /// address names its link).
    public func targetConnections() async throws -> [PathLabConnection] {
        let listed = try await runInTarget(try ExternalTool.ss.path(), ["-H", "-t", "-n", "state", "established", "sport", "=", ":\(Self.port)"]).check()
        var connections: [PathLabConnection] = []
        for line in listed.stdout.split(separator: "\n") {
            // "RECV-Q SEND-Q LOCAL:PORT PEER:PORT" (the state column is left out for one state).
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard fields.count >= 4,
                  let local = Self.endpoint(fields[fields.count - 2]),
                  let peer = Self.endpoint(fields[fields.count - 1])
            else {
                throw TestSupportError(.commandFailed, "`ss` in \(targetNamespace) printed a line that is not RECV-Q SEND-Q LOCAL PEER: \(line)")
            }
            connections.append(PathLabConnection(portal: Portal(host: local.host, port: local.port), hostAddress: peer.host, hostPort: peer.port))
        }
        return connections
    }

    /// "10.231.0.1:3260" as address and port (IPv4: the lab has no IPv6).
    private static func endpoint(_ text: Substring) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
            return nil
        }
        return (String(text[..<colon]), port)
    }

    /// The interface and source address the host would use for `destination`, given a source
    /// address or none (`ip route get`): how the kernel routes, without sending anything.
    public func route(to destination: String, from source: String? = nil) async throws -> (interface: String, source: String) {
        var arguments = ["-n", hostNamespace, "-o", "route", "get", destination]
        if let source {
            arguments += ["from", source]
        }
        let shown = try await Self.ip(arguments).stdout
        let words = shown.split(whereSeparator: \.isWhitespace).map(String.init)
        func value(after key: String) -> String? {
            words.firstIndex(of: key).flatMap { words.index(after: $0) < words.endIndex ? words[words.index(after: $0)] : nil }
        }
        guard let interface = value(after: "dev"), let chosen = value(after: "src") ?? source else {
            throw TestSupportError(.commandFailed, "`ip \(arguments.joined(separator: " "))` named no device and source address: \(shown)")
        }
        return (interface, chosen)
    }
}
