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
        daemon = try await Self.pid(in: pidFile)
        let tgtd = try #require(daemon, "the shell never reported tgtd's PID")
        for _ in 0..<200 where !LoopbackPort.isListening(pid: tgtd, port: port) {
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(LoopbackPort.isListening(pid: tgtd, port: port))

        #expect(try await Self.killAndAwaitGone(shell, child: tgtd), "tgtd \(tgtd) outlived its parent")
    }

    /// The kernel clears a parent-death signal when a process changes its ids, so the one the
    /// harness sets before setpriv switches to the ordinary user would be lost; the user's
    /// command line sets it again. A shell starts `sleep` that way and is killed: sleep dies too.
    @Test func aProgramRunAsTheOrdinaryUserDiesWithItsParent() async throws {
        let directory = try ScratchDirectory(prefix: "pdeathsig-user")
        defer { directory.remove() }
        let pidFile = directory.file("sleep.pid")
        let line = try [ExternalTool.setpriv.path(), "--pdeathsig", "KILL", "--"] + UnprivilegedUser.standard.commandLine("/bin/sleep", ["60"])
        let script = """
            pid_file="$1"; shift
            "$@" >/dev/null 2>&1 &
            echo $! > "$pid_file"
            wait
            """
        let shell = try await ChildProcess.spawn(executable: "/bin/sh", arguments: ["-c", script, "sh", pidFile] + line, stdoutPath: directory.file("sh.log"))
        var sleeper: pid_t?
        defer {
            if let sleeper, !ProcessProbe.isGone(sleeper) {
                kill(sleeper, SIGKILL)
            }
            shell.send(signal: SIGKILL)
        }
        sleeper = try await Self.pid(in: pidFile)
        let pid = try #require(sleeper, "the shell never reported sleep's PID")
        // Running as the ordinary user (setpriv has exec'd into sleep).
        var switched = false
        for _ in 0..<200 where !switched {
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            switched = status.contains("Uid:\t\(UnprivilegedUser.standard.uid)") && (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) == "sleep\n"
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(switched, "sleep \(pid) never ran as uid \(UnprivilegedUser.standard.uid)")

        #expect(try await Self.killAndAwaitGone(shell, child: pid), "sleep \(pid), run as the ordinary user, outlived its parent")
    }

    /// The PID a shell wrote to `file`, waiting up to 5 s for it.
    private static func pid(in file: String) async throws -> pid_t? {
        for _ in 0..<200 {
            if let pid = (try? String(contentsOfFile: file, encoding: .utf8)).flatMap({ pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
                return pid
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        return nil
    }

    /// Kills `shell` and tells whether its `child` is gone within 5 s.
    private static func killAndAwaitGone(_ shell: ChildProcess, child: pid_t) async throws -> Bool {
        shell.send(signal: SIGKILL)
        #expect(await shell.waitForExit(timeout: .seconds(5)) == .signalled(SIGKILL))
        for _ in 0..<200 {
            if ProcessProbe.isGone(child) {
                return true
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        return false
    }
}
