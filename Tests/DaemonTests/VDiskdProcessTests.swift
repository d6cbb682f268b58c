// The built vdiskd and vdiskctl as processes: --check, start, READY, status, SIGHUP, SIGTERM, refusals.

import Control
import Daemon
import Foundation
import Testing
import TestSupport

@Suite(.serialized) struct VDiskdProcessTests {
    private var vdiskd: String { "\(ProcessRunner.productsDirectory)/vdiskd" }
    private var vdiskctl: String { "\(ProcessRunner.productsDirectory)/vdiskctl" }

    /// The minimal config with its control socket in `scratch` and its export on `port`.
    private func config(in scratch: TemporaryDirectory, port: Int) throws -> String {
        let text = ConfigFixtures.minimal
            .replacingOccurrences(of: "/run/vdiskd/control.sock", with: "\(scratch.path)/control.sock")
            .replacingOccurrences(of: "[daemon]\n", with: "[daemon]\nstate_directory = \"\(scratch.path)/state\"\n")
            .replacingOccurrences(of: "127.0.0.1:3261", with: "127.0.0.1:\(port)")
            .replacingOccurrences(of: "127.0.0.1:3260", with: "127.0.0.1:1")
        return try scratch.write("vdiskd.toml", text)
    }

    /// A loopback port nothing listens on right now.
    private func freePort() throws -> Int {
        try LoopbackPort.reserve()
    }

    @Test func checkAcceptsTheShippedExample() async throws {
        let output = try await ProcessRunner.run(vdiskd, ["--config", "\(ConfigFixtures.repositoryRoot)/Config/vdiskd.toml", "--check"])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("valid (1 targets, 1 datastores, 1 disks, 1 exports)"))
    }

    @Test func checkRefusesABadConfigNamingFileLineAndKey() async throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        let path = try scratch.write("vdiskd.toml", ConfigFixtures.minimal.replacingOccurrences(of: "lun = 1", with: "lun = true"))
        let output = try await ProcessRunner.run(vdiskd, ["--config", path, "--check"])
        #expect(output.status == 1)
        #expect(output.stderr == "\(path):9: target[1].lun: wrong type: expected an integer, found boolean\n")
    }

    @Test func checkRefusesASecretsFileItsUserCannotRead() async throws {
        // Run as nobody: the secrets file is root's own with mode 600, so it is private and unreadable.
        try #require(getuid() == 0, "needs root to act as another user")
        let scratch = TemporaryDirectory("vdiskd-test")
        chmod(scratch.path, 0o755)
        let secrets = try scratch.write("secrets.toml", "lun1 = \"\(TestSecrets.daemonLUN)\"\n", mode: 0o600)
        let text = ConfigFixtures.minimal
            .replacingOccurrences(of: "[daemon]\n", with: "[daemon]\nsecrets_file = \"\(secrets)\"\n")
            .replacingOccurrences(of: "lun = 1", with: "lun = 1\nchap_user = \"alice\"\nchap_secret = \"lun1\"")
        let path = try scratch.write("vdiskd.toml", text)
        let output = try await ProcessRunner.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", vdiskd, "--config", path, "--check"])
        #expect(output.status == 1)
        // The ownership rule (a secrets file must belong to the user reading it) refuses it
        // before any attempt to read, and says how to fix it.
        #expect(output.stderr.hasPrefix("\(secrets): the secrets file belongs to user id 0, not to the user reading it (65534)"), "\(output.stderr)")
    }

    @Test func startRefusesAListenPortInUseAndTouchesNothing() async throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        let holder = try ListeningSocket()
        let port = holder.port
        let path = try config(in: scratch, port: port)
        let output = try await ProcessRunner.run(vdiskd, ["--config", path], timeout: 30)
        #expect(output.status == 1)
        #expect(output.stderr.contains("\(path):24: export[1].listen: cannot listen on 127.0.0.1:\(port)"), "\(output.stderr)")
        // Refused before any service started: not even the control socket was created.
        #expect(!FileManager.default.fileExists(atPath: "\(scratch.path)/control.sock"))
        // --check does not bind ports, so the same file passes it.
        #expect(try await ProcessRunner.run(vdiskd, ["--config", path, "--check"]).status == 0)
    }

    @Test func vdiskctlStatusSaysWhenTheDaemonIsNotRunning() async throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        let output = try await ProcessRunner.run(vdiskctl, ["status", "--socket", "\(scratch.path)/none.sock"])
        #expect(output.status == 69)
        #expect(output.stderr.contains("vdiskd is not running"))
    }

    @Test func runsNotifiesAnswersReloadsAndStopsOnSIGTERM() async throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        let path = try config(in: scratch, port: try freePort())
        let receiver = try NotifyReceiver(path: "\(scratch.path)/notify")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: vdiskd)
        process.arguments = ["--config", path]
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = receiver.path
        environment["WATCHDOG_USEC"] = "400000"
        process.environment = environment
        let errorsPath = try scratch.write("vdiskd.stderr", "")
        process.standardError = FileHandle(forWritingAtPath: errorsPath)
        try process.run()
        defer {
            if process.isRunning { process.terminate() }
            ChildTranscript.append(fileAt: errorsPath, of: [vdiskd])
        }

        let started = try #require(await receiver.waitFor("READY=1", timeout: 30), "no READY=1 from vdiskd")
        #expect(started.last?.contains("STATUS=control socket ready") == true)
        // No target listens on the configured portal, so the session fails and what depends on it waits.
        let datastores = try await ControlClient(socketPath: "\(scratch.path)/control.sock").call("datastores.list")
        #expect(datastores.arrayValue?.first?["state"] == .string("not-started"))
        #expect(datastores.arrayValue?.first?["reason"] == .string("its target lun1 is not open"))
        #expect(await receiver.waitFor("WATCHDOG=1", timeout: 5) != nil)

        let status = try await ProcessRunner.run(vdiskctl, ["status", "--socket", "\(scratch.path)/control.sock", "--json"])
        #expect(status.status == 0, "\(status.stderr)")
        let json = try JSONDecoder().decode(JSONValue.self, from: Data(status.stdout.utf8))
        #expect(json["config_path"] == .string(path))
        #expect(json["services"]?.arrayValue?.contains { $0["name"] == .string("control-socket") && $0["state"] == .string("running") } == true)
        let table = try await ProcessRunner.run(vdiskctl, ["status", "--socket", "\(scratch.path)/control.sock"])
        #expect(table.stdout.contains("control-socket"))
        #expect(table.stdout.contains("target:lun1"))

        // A user the socket's mode 0660 keeps out gets the permission class (77), not "not running".
        chmod(scratch.path, 0o755)
        let outsider = try await ProcessRunner.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", vdiskctl, "status", "--socket", "\(scratch.path)/control.sock"])
        #expect(outsider.status == 77, "\(outsider.stderr)")
        #expect(outsider.stderr.contains("permission denied on \(scratch.path)/control.sock"))

        // SIGHUP with a changed log level: applied live, the rest reported as needing a restart.
        try scratch.write("vdiskd.toml", try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "log_level = \"info\"", with: "log_level = \"debug\""))
        kill(process.processIdentifier, SIGHUP)
        #expect(await receiver.waitFor("STATUS=reloaded", timeout: 10) != nil)
        let level = try await ControlClient(socketPath: "\(scratch.path)/control.sock").call("status")["log_level"]
        #expect(level == .string("debug"))

        kill(process.processIdentifier, SIGTERM)
        #expect(await receiver.waitFor("STOPPING=1", timeout: 10) != nil)
        let deadline = Date().addingTimeInterval(15)
        // Polls until exit; bounded by the deadline.
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 0, "\((try? String(contentsOfFile: errorsPath, encoding: .utf8)) ?? "")")
        #expect(!FileManager.default.fileExists(atPath: "\(scratch.path)/control.sock"))
    }
}
