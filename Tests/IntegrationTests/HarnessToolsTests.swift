// The harness's own plumbing: tool lookup messages and the parent-death
// wrapper that keeps a killed test run from leaving daemons behind.

import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite(.timeLimit(.minutes(1)))
struct HarnessToolsTests {
    @Test func aMissingToolSaysWhatToInstall() throws {
        let tool = ExternalTool(name: "vdiskd-no-such-tool", debianPackage: "vdiskd-imaginary")
        let error = try #require(throws: TestSupportError.self) { try tool.path() }
        #expect(error.code == .toolMissing)
        #expect(error.message.contains("install the Debian package vdiskd-imaginary"))
        #expect(error.message.contains("Scripts/test"))
    }

    @Test func everyToolTheSuiteUsesIsInstalled() throws {
        for tool in [ExternalTool.tgtd, .tgtadm, .istgt, .iscsiInq, .iscsiLs, .iscsiReadCapacity16, .qemuImg, .setpriv] {
            #expect(throws: Never.self) { try tool.path() }
        }
    }

    /// Kills an intermediate shell that started tgtd the way the harness does
    /// (`setpriv --pdeathsig KILL -- tgtd ...`) and checks tgtd dies with it,
    /// as it would if `swift test` itself were killed.
    @Test func aDaemonDiesWithItsParent() async throws {
        let directory = try ScratchDirectory(prefix: "pdeathsig")
        defer { directory.remove() }
        let pidFile = directory.file("tgtd.pid")
        let port = try LoopbackPort.reserve()
        let controlNumber = TgtTarget.reserveControlNumber()
        // Should this run be killed, the next one removes tgtd's socket files.
        _ = try directory.write(String(controlNumber), to: ScratchDirectory.tgtControlNumberFile)
        let script = """
            "$1" --pdeathsig KILL -- "$2" -f -C \(controlNumber) --iscsi portal=127.0.0.1:\(port) >/dev/null 2>&1 &
            echo $! > "$3"
            wait
            """
        let shell = try await ChildProcess.spawn(
            executable: "/bin/sh",
            arguments: ["-c", script, "sh", try ExternalTool.setpriv.path(), try ExternalTool.tgtd.path(), pidFile],
            stdoutPath: directory.file("sh.log")
        )
        var daemon: pid_t?
        defer {
            // If the wrapper failed, still leave nothing behind.
            if let daemon, !ProcessProbe.isGone(daemon) {
                kill(daemon, SIGKILL)
            }
            shell.send(signal: SIGKILL)
            unlink("/var/run/tgtd/socket.\(controlNumber)")
            unlink("/var/run/tgtd/socket.\(controlNumber).lock")
        }
        for _ in 0..<200 where daemon == nil {
            daemon = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            try await Task.sleep(for: .milliseconds(25))
        }
        let tgtd = try #require(daemon, "the shell never reported tgtd's PID")
        for _ in 0..<200 where !LoopbackPort.isListening(pid: tgtd, port: port) {
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(LoopbackPort.isListening(pid: tgtd, port: port))

        shell.send(signal: SIGKILL)
        #expect(await shell.waitForExit(timeout: .seconds(5)) == .signalled(SIGKILL))
        var gone = false
        for _ in 0..<200 where !gone {
            gone = ProcessProbe.isGone(tgtd)
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(gone, "tgtd \(tgtd) outlived its parent")
    }
}
