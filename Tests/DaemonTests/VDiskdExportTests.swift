// The whole path through vdiskd: a datastore on a real tgt LUN, a disk in it served as an
// export, a real iSCSI client writing and reading through it, the control socket reporting it
// all, and SIGTERM during I/O leaving the data on the LUN and the disk free for another host.

import Control
import Daemon
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(5))) struct VDiskdExportTests {
    static let lunIQN = "iqn.2026-11.org.vdiskd.test:export-lun"
    static let exportIQN = "iqn.2026-11.example.vdiskd:vm1"
    static let clientIQN = "iqn.2026-11.org.vdiskd.test:perf-client"
    static let patternBytes = 1 << 20
    static let shutdownTimeout = 15

    private var vdiskctl: String { "\(ProcessRunner.productsDirectory)/vdiskctl" }

    @Test func servesADiskEndToEndAndStopsCleanlyDuringIO() async throws {
        // The administrator's part, with vdiskctl: a datastore and one thin disk.
        try await PreparedLUN.with(iqn: Self.lunIQN, size: 256 << 20, diskSize: "16MiB") { lun in
            let scratch = lun.scratch, lunURL = lun.url
            let exportPort = try LoopbackPort.reserve()
            let daemon = try lun.startDaemon(exportPort: exportPort, shutdownTimeout: Self.shutdownTimeout)
            defer { daemon.stop() }
            let ready = try #require(await daemon.notify.waitFor("READY=1", timeout: 60), "no READY=1: \(daemon.stderr)")
            #expect(ready.last?.contains("1 of 1 exports serving") == true, "\(ready)")

            // A real client writes a random pattern through the export and reads it back.
            let exportURL = "iscsi://127.0.0.1:\(exportPort)/\(Self.exportIQN)/0"
            let pattern = Data(TestPattern.bytes(seed: 0x5EED_D15C, count: Self.patternBytes).readableBytesView)
            let patternPath = "\(scratch.path)/pattern.bin"
            try pattern.write(to: URL(fileURLWithPath: patternPath))
            try await LibISCSIClient.copy(from: patternPath, to: exportURL, blockSize: 4096, blocks: Self.patternBytes / 4096)
            let backPath = "\(scratch.path)/back.bin"
            try await LibISCSIClient.copy(from: exportURL, to: backPath, blockSize: 4096, blocks: Self.patternBytes / 4096)
            #expect(try Data(contentsOf: URL(fileURLWithPath: backPath)) == pattern, "the pattern read back through the export differs")

            // A second client keeps reading while the control socket is asked and SIGTERM arrives.
            // stdbuf: iscsi-perf's progress lines reach its output file as they are printed.
            let perf = try await ChildProcess.spawn(
                executable: "/usr/bin/stdbuf",
                arguments: ["-o0", try ExternalTool.iscsiPerf.path(), "-i", Self.clientIQN, "-m", "8", "-b", "8", exportURL],
                stdoutPath: "\(scratch.path)/perf.out"
            )
            defer { perf.send(signal: SIGKILL) }
            let socket = ["--socket", daemon.socketPath]
            var connected = false
            // Bounded: 200 looks, 100 ms apart.
            for _ in 0..<200 where !connected {
                let exports = try? await ControlClient(socketPath: daemon.socketPath).call("exports.list")
                connected = exports?.arrayValue?.first?["sessions"]?.arrayValue?.contains { $0["initiator"] == .string(Self.clientIQN) } == true
                if !connected { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(connected, "iscsi-perf's session never showed in exports.list: \(perf.outputTail())")

            let exports = try await json(["exports", "--json"] + socket)
            let session = try #require(exports.arrayValue?.first?["sessions"]?.arrayValue?.first { $0["initiator"] == .string(Self.clientIQN) })
            #expect(session["portal"] == .string("127.0.0.1:\(exportPort)"))
            #expect(session["connections"] == .int(1))
            #expect(session["isid"]?.stringValue?.count == 12)
            #expect(exports.arrayValue?.first?["state"] == .string("running"))
            let exportsTable = try await ProcessRunner.run(vdiskctl, ["exports"] + socket)
            #expect(exportsTable.stdout.contains(Self.clientIQN), "\(exportsTable.stdout)")

            let targets = try await json(["targets", "--json"] + socket)
            #expect(targets.arrayValue?.first?["state"] == .string("running"))
            #expect(targets.arrayValue?.first?["session"]?["max_burst_length"]?.intValue ?? 0 > 0)
            let window = try #require(targets.arrayValue?.first?["command_window"], "no command window: \(targets)")
            let expCmdSN = try #require(window["exp_cmd_sn"]?.intValue), maxCmdSN = try #require(window["max_cmd_sn"]?.intValue)
            #expect(UInt32(truncatingIfNeeded: maxCmdSN &- expCmdSN) < 1 << 16, "ExpCmdSN \(expCmdSN), MaxCmdSN \(maxCmdSN)")
            #expect(targets.arrayValue?.first?["last_event"] == .null)
            let targetsTable = try await ProcessRunner.run(vdiskctl, ["targets"] + socket)
            // The window moves with the heartbeat's I/O, so the table is checked for its shape only.
            #expect(targetsTable.stdout.contains("CMDSN WINDOW") && targetsTable.stdout.contains("lun1"), "\(targetsTable.stdout)")
            let datastores = try await json(["datastores", "--json"] + socket)
            #expect(datastores.arrayValue?.first?["state"] == .string("running"))
            #expect(datastores.arrayValue?.first?["mount"]?["label"] == .string("ds1"))
            let disks = try await json(["disks", "--json"] + socket)
            #expect(disks.arrayValue?.first?["state"] == .string("running"))
            #expect(disks.arrayValue?.first?["exports"] == .array([.string("vm1")]))
            #expect(disks.arrayValue?.first?["opened"]?["kind"] == .string("thin"))
            let status = try await json(["status", "--json"] + socket)
            #expect(status["services"]?.arrayValue?.contains { $0["name"] == .string("export:vm1") && $0["state"] == .string("running") } == true)
            // The per-disk statistics and the metrics see the client's reads and its session.
            let stats = try await json(["disks", "stats", "ds1/vm1", "--json"] + socket)
            let reads = try #require(stats.arrayValue?.first?["read"], "no read statistics: \(stats)")
            #expect(reads["operations"]?.intValue ?? 0 > 0 && reads["bytes"]?.intValue ?? 0 > 0, "\(reads)")
            let metrics = try await ProcessRunner.run(vdiskctl, ["metrics"] + socket)
            #expect(metrics.stdout.contains("vdiskd_export_sessions{export=\"vm1\"} 1.0\n"), "\(metrics.stdout.prefix(2000))")

            // SIGTERM while iscsi-perf reads: drained, logged out, closed, exit 0 within the bound.
            #expect(perf.isRunning, "iscsi-perf ended before SIGTERM: \(perf.outputTail())")
            let stopping = ContinuousClock.now
            daemon.signal(SIGTERM)
            let exit = await daemon.waitForExit(timeout: .seconds(Self.shutdownTimeout + 5))
            #expect(exit == 0, "vdiskd exit \(String(describing: exit)): \(daemon.stderr)")
            #expect(ContinuousClock.now - stopping < .seconds(Self.shutdownTimeout))
            _ = await perf.terminate(gracePeriod: .seconds(2))

            // The data is on the LUN, and another host opens the disk at once: no lock is left.
            let readPath = "\(scratch.path)/read.bin"
            try await lun.vdiskctl(["disk", "read", lunURL, "vm1", "--offset", "0", "--length", "\(Self.patternBytes)", "--out", readPath, "--host-name", "other"])
            #expect(try Data(contentsOf: URL(fileURLWithPath: readPath)) == pattern, "the pattern on the LUN differs after shutdown")
            let hosts = try await ProcessRunner.run(vdiskctl, ["datastore", "hosts", lunURL, "--json"])
            #expect(hosts.status == 0, "\(hosts.stderr)")
            #expect(try JSONDecoder().decode(JSONValue.self, from: Data(hosts.stdout.utf8)).arrayValue?.isEmpty == true, "a host is still mounted: \(hosts.stdout)")
        }
    }

    @Test func aListenPortInUseIsRefusedBeforeTheDatastoreIsTouched() async throws {
        try await PreparedLUN.with(iqn: Self.lunIQN, diskSize: "4MiB") { lun in
            let scratch = lun.scratch, lunURL = lun.url
            let holder = try ListeningSocket()
            let daemon = try lun.startDaemon(exportPort: holder.port)
            defer { daemon.stop() }
            #expect(await daemon.waitForExit(timeout: .seconds(30)) == 1)
            #expect(daemon.stderr.contains("export[1].listen: cannot listen on 127.0.0.1:\(holder.port)"), "\(daemon.stderr)")
            #expect(await daemon.notify.receive(timeout: 0.1) == nil, "vdiskd told systemd something before refusing")
            // Nothing on the datastore was touched: no host mounted, no lock held, the disk free.
            let hosts = try await json(["datastore", "hosts", lunURL, "--json"])
            #expect(hosts.arrayValue?.isEmpty == true, "\(hosts)")
            let locks = try await json(["datastore", "locks", lunURL, "--json"])
            #expect(locks.arrayValue?.allSatisfy { $0["isStale"] == .bool(true) } == true, "\(locks)")
            try await lun.vdiskctl(["disk", "read", lunURL, "vm1", "--offset", "0", "--length", "4096", "--out", "\(scratch.path)/read.bin"])
        }
    }

    @Test func anExportRequiresCHAPWithTheSecretFromTheSecretsFile() async throws {
        try await PreparedLUN.with(iqn: Self.lunIQN, diskSize: "4MiB") { lun in
            let secrets = try lun.scratch.write("secrets.toml", "vm1-export = \"\(TestSecrets.daemonExport)\"\n", mode: 0o600)
            let port = try LoopbackPort.reserve()
            let daemon = try lun.startDaemon(exportPort: port) { text in
                text.replacingOccurrences(of: "[daemon]\n", with: "[daemon]\nsecrets_file = \"\(secrets)\"\n")
                    + "\nchap_user = \"client\"\nchap_secret = \"vm1-export\"\n"
            }
            defer { daemon.stop() }
            try #require(await daemon.notify.waitFor("READY=1", timeout: 60) != nil, "no READY=1: \(daemon.stderr)")
            let portal = Portal(host: "127.0.0.1", port: port)
            let anonymous = try await LibISCSIClient.inquiry(portal.libiscsiURL(target: Self.exportIQN, lun: 0))
            #expect(!anonymous.succeeded, "a login without CHAP was let in")
            let wrong = try await LibISCSIClient.inquiry(portal.libiscsiURL(target: Self.exportIQN, lun: 0, chap: .oneWay(user: "client", secret: TestSecrets.wrongLong)))
            #expect(!wrong.succeeded, "a login with the wrong secret was let in")
            let right = try await LibISCSIClient.inquiry(portal.libiscsiURL(target: Self.exportIQN, lun: 0, chap: .oneWay(user: "client", secret: TestSecrets.daemonExport)))
            #expect(right.succeeded, "\(right.stdout) \(right.stderr)")
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit(timeout: .seconds(30)) == 0, "\(daemon.stderr)")
        }
    }

    @Test func aLostTargetIsReportedAndShutdownStillEnds() async throws {
        try await PreparedLUN.with(iqn: Self.lunIQN, diskSize: "4MiB") { lun in
            // Recovery tries for 2 s before the target counts as failed.
            let daemon = try lun.startDaemon(exportPort: try LoopbackPort.reserve(), shutdownTimeout: Self.shutdownTimeout) { text in
                text.replacingOccurrences(of: "lun = 1\n", with: "lun = 1\nrecovery_timeout_seconds = 2\n")
            }
            defer { daemon.stop() }
            try #require(await daemon.notify.waitFor("READY=1", timeout: 60) != nil, "no READY=1: \(daemon.stderr)")
            await lun.tgt.kill()
            let client = ControlClient(socketPath: daemon.socketPath)
            var target: JSONValue?
            // Bounded: 100 looks, 100 ms apart.
            for _ in 0..<100 {
                target = try await client.call("targets.list").arrayValue?.first
                if target?["state"] == .string("failed") { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(target?["state"] == .string("failed"), "\(target ?? .null)")
            #expect(target?["last_event"]?.stringValue?.contains("recovery gave up") == true, "\(target ?? .null)")
            #expect(target?["reason"]?.stringValue?.contains("its connection was lost") == true, "\(target ?? .null)")
            // Closing the disk and unmounting fail against a dead target, but the daemon still ends.
            let stopping = ContinuousClock.now
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit(timeout: .seconds(Self.shutdownTimeout + 5)) == 0, "\(daemon.stderr)")
            #expect(ContinuousClock.now - stopping < .seconds(Self.shutdownTimeout), "\(daemon.stderr)")
        }
    }

    /// Runs vdiskctl with --json and decodes its answer.
    private func json(_ arguments: [String]) async throws -> JSONValue {
        let output = try await ProcessRunner.run(vdiskctl, arguments)
        try #require(output.status == 0, "vdiskctl \(arguments.joined(separator: " ")): \(output.stderr)")
        return try JSONDecoder().decode(JSONValue.self, from: Data(output.stdout.utf8))
    }
}
