// The deployment the container tests exercise: a target machine running tgtd (Debian's tgt
// service) with one file-backed LUN, and host machines with the vdiskd package, its datastore
// formatted on that LUN by vdiskctl as an administrator would. Each host serves its own disk.

import Foundation
import TestSupport

struct SharedLUNCluster {
    static let lunIQN = "iqn.2026-11.org.vdiskd.test:shared"
    static let lunSize: UInt64 = 256 << 20
    /// The LUN's backing file inside the target machine.
    static let lunPath = "/var/lib/vdct/lun.img"
    static let exportPort = 3261
    /// Short leases, so takeover and fencing tests wait seconds, not minutes.
    static let heartbeatInterval = 2
    static let heartbeatLease = 8
    /// Groups on every host: members of the first may read through the control socket,
    /// members of the second may also change things.
    static let readGroup = "vdread"
    static let adminGroup = "vdadmin"

    let lab: ContainerLab
    let target: Container
    let hosts: [Container]

    var lunURL: String { "iscsi://\(target.address)/\(Self.lunIQN)/1" }

    static func diskName(_ host: Container) -> String { "vm\(host.machine)" }

    /// The export IQN of `host`'s disk.
    static func exportIQN(_ host: Container) -> String { "iqn.2026-11.org.vdiskd.test:\(diskName(host))" }

    /// The export's first LUN as libiscsi names it, reached from the bridge.
    static func exportURL(_ host: Container, port: Int = exportPort) -> String {
        "iscsi://\(host.address):\(port)/\(exportIQN(host))/0"
    }

    /// Boots the target and `hostCount` hosts ("a", "b", ...), formats the datastore, creates a
    /// disk per host and writes each host's config; vdiskd is not started.
    static func with<Result: Sendable>(hostCount: Int, _ body: (SharedLUNCluster) async throws -> Result) async throws -> Result {
        try await ContainerLab.with { lab in
            let target = try await lab.boot("target", host: 10) { root in
                try FileManager.default.createDirectory(atPath: "\(root)/var/lib/vdct", withIntermediateDirectories: true)
                let lun = root + lunPath
                _ = FileManager.default.createFile(atPath: lun, contents: nil)
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: lun))
                try handle.truncate(atOffset: lunSize)
                try handle.close()
                try """
                    <target \(lunIQN)>
                        backing-store \(lunPath)
                    </target>

                    """.write(toFile: "\(root)/etc/tgt/conf.d/vdct.conf", atomically: true, encoding: .utf8)
            }
            try await target.must(["systemctl", "start", "tgt.service"])

            var hosts: [Container] = []
            for index in 0..<hostCount {
                let machine = String(Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8(index))))
                let host = try await lab.boot(machine, host: 11 + index)
                // The package enabled the service, so it started at boot with the shipped example
                // config; the administrator stops it, writes the real config, then starts it.
                try await host.must(["systemctl", "stop", "vdiskd.service"], timeout: .seconds(60))
                hosts.append(host)
            }
            let cluster = SharedLUNCluster(lab: lab, target: target, hosts: hosts)
            guard let first = hosts.first else {
                return try await body(cluster)
            }
            try await first.must(["vdiskctl", "datastore", "format", cluster.lunURL, "--label", "ds1"])
            for (index, host) in hosts.enumerated() {
                try await first.must(["vdiskctl", "disk", "create", cluster.lunURL, diskName(host), "--size", "16MiB"])
                try await host.must(["groupadd", "--system", readGroup])
                try await host.must(["groupadd", "--system", adminGroup])
                try cluster.writeConfig(host, uuid: String(format: "5a1e0000-0000-4000-8000-%012d", index + 1))
                // With CapabilityBoundingSet= empty even a root daemon may give its socket only to a
                // group it is a member of (no CAP_CHOWN): the administrator's drop-in makes it one.
                try host.write("[Service]\nSupplementaryGroups=\(readGroup)\n", to: try host.makeDirectory("/etc/systemd/system/vdiskd.service.d") + "/socket-group.conf")
                try await host.must(["systemctl", "daemon-reload"])
            }
            return try await body(cluster)
        }
    }

    /// The host's /etc/vdiskd/vdiskd.toml: this LUN's datastore, the host's disk and its export,
    /// with the owner, group and mode the package gave the example it replaces.
    /// `uuid` nil leaves `host_uuid` out, as the shipped example does: the host's id is then
    /// derived from its machine id.
    func writeConfig(_ host: Container, uuid: String?, exportPort: Int = exportPort) throws {
        let disk = Self.diskName(host)
        let path = host.root + "/etc/vdiskd/vdiskd.toml"
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        try """
            [daemon]
            log_level = "info"
            control_socket = "/run/vdiskd/control.sock"
            socket_group = "\(Self.readGroup)"
            control_group = "\(Self.adminGroup)"
            shutdown_timeout_seconds = 20

            [[target]]
            name = "lun1"
            portal = "\(target.address):3260"
            iqn = "\(Self.lunIQN)"
            lun = 1
            login_timeout_seconds = 5
            command_timeout_seconds = 10
            recovery_timeout_seconds = 120

            [[datastore]]
            name = "ds1"
            target = "lun1"
            \(uuid.map { "host_uuid = \"\($0)\"" } ?? "# host_uuid: this machine's own")
            host_name = "host-\(host.machine)"
            heartbeat_interval_seconds = \(Self.heartbeatInterval)
            heartbeat_lease_seconds = \(Self.heartbeatLease)

            [[disk]]
            datastore = "ds1"
            name = "\(disk)"
            mode = "exclusive"

            [[export]]
            name = "\(disk)"
            iqn = "\(Self.exportIQN(host))"
            listen = ["\(host.address):\(exportPort)"]
            disks = ["ds1/\(disk)"]

            """.write(toFile: path, atomically: false, encoding: .utf8)
        let kept = attributes.filter { $0.key == .posixPermissions || $0.key == .groupOwnerAccountID }
        try FileManager.default.setAttributes(kept, ofItemAtPath: path)
    }

    /// `systemctl start vdiskd.service` on `host`; a failure carries the unit's journal.
    func start(_ host: Container, _ mode: [String] = []) async throws {
        let result = try await host.run(["systemctl", "start"] + mode + ["vdiskd.service"], timeout: .seconds(90))
        guard result.succeeded else {
            let journal = try await host.journal("vdiskd.service")
            throw TestSupportError(.startFailed, "vdiskd.service on \(host.machine) did not start: \(result.stderr)\n\(journal.suffix(4000))")
        }
    }

    /// `vdiskctl ARGS --json` inside `host` as root, decoded.
    func json(_ host: Container, _ arguments: [String]) async throws -> Any {
        let result = try await host.must(["vdiskctl"] + arguments + ["--json"])
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }

    /// Writes `count` bytes of a pattern through `url` from the bridge and reads them back.
    func writeAndVerify(_ url: String, seed: UInt64, count: Int = 1 << 20) async throws -> Bool {
        let scratch = try ScratchDirectory(prefix: "container-io")
        defer { scratch.remove() }
        let pattern = Data(TestPattern.bytes(seed: seed, count: count).readableBytesView)
        let written = scratch.file("pattern.bin"), read = scratch.file("read.bin")
        try pattern.write(to: URL(fileURLWithPath: written))
        let blocks = count / 4096
        do {
            try await lab.client(try ExternalTool.qemuImg.path(), ["dd", "-f", "raw", "-O", "raw", "bs=4096", "count=\(blocks)", "if=\(written)", "of=\(url)"]).check()
            try await lab.client(try ExternalTool.qemuImg.path(), ["dd", "-f", "raw", "-O", "raw", "bs=4096", "count=\(blocks)", "if=\(url)", "of=\(read)"]).check()
        } catch {
            throw TestSupportError(.commandFailed, "\(error)\n\(await whatTheHostsSaw())")
        }
        return try Data(contentsOf: URL(fileURLWithPath: read)) == pattern
    }

    /// Each host's event log and the end of its vdiskd journal: what a failed client needs explained.
    func whatTheHostsSaw() async -> String {
        var text = ""
        for host in hosts {
            let events = (try? await host.run(["vdiskctl", "events"]).output) ?? "(no events)"
            let journal = (try? await host.journal("vdiskd.service")) ?? "(no journal)"
            text += "== host \(host.machine): events\n\(events)\n== host \(host.machine): vdiskd journal (end)\n\(journal.suffix(6000))\n"
        }
        return text
    }
}
