// One machine of a lab: an overlay of the cached Debian tree (plus the installed package) booted
// with `systemd-nspawn -b --register=no --keep-unit`, so no host systemd or machined is needed.
// Commands run inside through `nsenter` into every namespace of the container's PID 1; systemd's
// own `--machine` transport would need the container registered with machined.

import Foundation
import NIOConcurrencyHelpers
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

final class Container: Sendable {
    let machine: String
    let address: String
    /// The container's tree as the host sees it (the merged overlay): files written here before
    /// boot are the container's own.
    let root: String
    private let directory: String
    private let state = NIOLockedValueBox(State())

    private struct State {
        var nspawn: ChildProcess?
        var leader: pid_t?
        var mounted = true
        var link: (name: String, namespace: String)?
    }

    private init(machine: String, address: String, directory: String) {
        self.machine = machine
        self.address = address
        self.directory = directory
        root = "\(directory)/root"
    }

    /// Mounts a fresh overlay: `lowerDirectories` (topmost first) under an empty upper layer.
    static func mount(machine: String, address: String, directory: String, lowerDirectories: [String]) async throws -> Container {
        let container = Container(machine: machine, address: address, directory: directory)
        for folder in ["upper", "work", "root"] {
            try FileManager.default.createDirectory(atPath: "\(directory)/\(folder)", withIntermediateDirectories: true)
        }
        let options = "lowerdir=\(lowerDirectories.joined(separator: ":")),upperdir=\(directory)/upper,workdir=\(directory)/work"
        do {
            try await ContainerLab.run("mount", ["-t", "overlay", "overlay", "-o", options, container.root])
        } catch {
            container.state.withLockedValue { $0.mounted = false }
            throw error
        }
        return container
    }

    /// Boots systemd in the container and waits until it has finished starting up.
    /// `networkNamespace` is also the name nspawn knows the machine by (unique to this run).
    func boot(networkNamespace: String, bridgeLink: String, bridgeNamespace: String) async throws {
        try "\(machine)\n".write(toFile: "\(root)/etc/hostname", atomically: true, encoding: .utf8)
        let nspawn = try await ChildProcess.spawn(
            executable: try ContainerLab.tool("systemd-nspawn"),
            arguments: [
                "--boot", "--quiet", "--directory=\(root)", "--machine=\(networkNamespace)",
                "--register=no", "--keep-unit", "--console=read-only",
                "--network-namespace-path=/run/netns/\(networkNamespace)",
                "--link-journal=no", "--resolv-conf=off", "--timezone=off",
            ],
            stdoutPath: "\(directory)/console.log"
        )
        state.withLockedValue {
            $0.nspawn = nspawn
            $0.link = (bridgeLink, bridgeNamespace)
        }
        let leader = try await findLeader(of: nspawn)
        state.withLockedValue { $0.leader = leader }
        var last = ""
        let booted = try await BoundedWait.until(timeout: .seconds(90), interval: .milliseconds(250)) {
            let result = try await self.run(["systemctl", "is-system-running"], timeout: .seconds(20))
            last = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            return last == "running" || last == "degraded"
        }
        guard booted else {
            throw TestSupportError(.startFailed, "container \(machine) did not finish booting within 90 s (systemd says \"\(last)\"); console: \(nspawn.outputTail())")
        }
        if last == "degraded" {
            let failed = try await run(["systemctl", "--failed", "--no-legend", "--plain"])
            throw TestSupportError(.startFailed, "container \(machine) booted with failed units: \(failed.stdout)")
        }
    }

    /// nspawn's child that is PID 1 of the container's PID namespace.
    private func findLeader(of nspawn: ChildProcess) async throws -> pid_t {
        var leader: pid_t?
        _ = await BoundedWait.until(timeout: .seconds(30), interval: .milliseconds(50)) {
            leader = Self.children(of: nspawn.pid).first { Self.isNamespaceInit($0) }
            return leader != nil || !nspawn.isRunning
        }
        guard let leader else {
            throw TestSupportError(.startFailed, "systemd-nspawn for \(machine) started no container init: \(nspawn.outputTail())")
        }
        return leader
    }

    private static func children(of pid: pid_t) -> [pid_t] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.flatMap { task in
            ((try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? "")
                .split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
    }

    /// Whether `pid` is PID 1 in its own namespace (the last NSpid field is 1).
    private static func isNamespaceInit(_ pid: pid_t) -> Bool {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("NSpid:") }) else {
            return false
        }
        let ids = line.dropFirst("NSpid:".count).split(whereSeparator: { $0 == " " || $0 == "\t" })
        return ids.count >= 2 && ids.last == "1"
    }

    /// Runs `command` inside the container as root, with a plain environment.
    func run(_ command: [String], timeout: Duration = .seconds(60)) async throws -> CommandResult {
        guard let leader = state.withLockedValue({ $0.leader }) else {
            throw TestSupportError(.commandFailed, "container \(machine) is not running; cannot run \(command.joined(separator: " "))")
        }
        return try await ExternalCommand.run(
            executable: try ContainerLab.tool("nsenter"),
            ["--target", "\(leader)", "--all", "--", "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"] + command,
            timeout: timeout
        )
    }

    /// Runs `command` and requires exit 0.
    @discardableResult
    func must(_ command: [String], timeout: Duration = .seconds(60)) async throws -> CommandResult {
        try await run(command, timeout: timeout).check()
    }

    /// Runs `command` inside as `user` (its own groups from the container's /etc/group).
    func run(as user: String, _ command: [String]) async throws -> CommandResult {
        try await run(["setpriv", "--reuid=\(user)", "--regid=\(user)", "--init-groups", "--"] + command)
    }

    /// Writes a file inside the running (or not yet booted) container.
    func write(_ text: String, to path: String, mode: Int = 0o644) throws {
        try text.write(toFile: root + path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: root + path)
    }

    /// Creates a folder (and its parents) inside the container; returns its path there.
    func makeDirectory(_ path: String) throws -> String {
        try FileManager.default.createDirectory(atPath: root + path, withIntermediateDirectories: true)
        return path
    }

    /// The machine's journal lines of `unit` since boot, for assertions and failure messages.
    func journal(_ unit: String) async throws -> String {
        try await run(["journalctl", "--no-pager", "-o", "cat", "-u", unit]).stdout
    }

    /// The value of one property of a unit (`systemctl show -P`).
    func property(_ unit: String, _ name: String) async throws -> String {
        try await must(["systemctl", "show", "-P", name, unit]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Takes the machine's link down or up on the bridge side (a partition).
    func setLink(up: Bool) async throws {
        guard let link = state.withLockedValue({ $0.link }) else {
            return
        }
        try await ContainerLab.run("ip", ["-n", link.namespace, "link", "set", link.name, up ? "up" : "down"])
    }

    /// The crash of a whole machine: SIGKILL to systemd-nspawn, which takes the container's every
    /// process with it (its PID namespace ends with its init).
    func crash() async {
        let (nspawn, leader) = state.withLockedValue { ($0.nspawn, $0.leader) }
        nspawn?.send(signal: SIGKILL)
        _ = await nspawn?.waitForExit(timeout: .seconds(10))
        if let leader {
            // If nspawn's parent-death signal did not take init, the init goes now.
            _ = kill(leader, SIGKILL)
        }
        _ = await BoundedWait.until(timeout: .seconds(10), interval: .milliseconds(50)) {
            leader.map { kill($0, 0) != 0 } ?? true
        }
        state.withLockedValue { $0.leader = nil }
    }

    /// Powers the container off (SIGTERM to nspawn asks its systemd to halt), kills it if that
    /// takes too long, and unmounts its tree.
    func stop() async {
        let (nspawn, leader) = state.withLockedValue { ($0.nspawn, $0.leader) }
        if let nspawn, await nspawn.terminate(gracePeriod: .seconds(30)) == nil, let leader {
            _ = kill(leader, SIGKILL)
        }
        if let leader {
            _ = await BoundedWait.until(timeout: .seconds(10), interval: .milliseconds(50)) { kill(leader, 0) != 0 }
        }
        state.withLockedValue { $0.leader = nil }
        guard state.withLockedValue({ $0.mounted }) else {
            return
        }
        _ = try? await ContainerLab.run("umount", ["--lazy", root], check: false)
        state.withLockedValue { $0.mounted = false }
    }
}
