// A vdiskd process started by a test from the minimal config, pointed at a real target, with
// its control socket and NOTIFY_SOCKET in the test's scratch directory.

import Foundation
import TestSupport

/// The built vdiskd running as a child; killed when the test is done with it.
/// Unchecked Sendable: `Process` is thread-safe for what is used here (signals, status).
final class DaemonProcess: @unchecked Sendable {
    let process: Process
    let notify: NotifyReceiver
    let socketPath: String
    let configPath: String
    let errorsPath: String

    private init(process: Process, notify: NotifyReceiver, socketPath: String, configPath: String, errorsPath: String) {
        self.process = process
        self.notify = notify
        self.socketPath = socketPath
        self.configPath = configPath
        self.errorsPath = errorsPath
    }

    /// The minimal config with the target at `tgt` (`host:port`), the export on `exportPort`.
    static func config(tgt: String, lunIQN: String, exportPort: Int, socketPath: String, shutdownTimeout: Int) -> String {
        ConfigFixtures.minimal
            .replacingOccurrences(of: "/run/vdiskd/control.sock", with: socketPath)
            .replacingOccurrences(of: "[daemon]\n", with: "[daemon]\nshutdown_timeout_seconds = \(shutdownTimeout)\nstate_directory = \"\(stateDirectory(of: socketPath))\"\n")
            .replacingOccurrences(of: "127.0.0.1:3260", with: tgt)
            .replacingOccurrences(of: "iqn.2026-11.example:lun1", with: lunIQN)
            .replacingOccurrences(of: "127.0.0.1:3261", with: "127.0.0.1:\(exportPort)")
    }

    /// The state directory beside the control socket: each test's daemon keeps its own.
    static func stateDirectory(of socketPath: String) -> String {
        (socketPath as NSString).deletingLastPathComponent + "/state"
    }

    /// Starts vdiskd from the minimal config, after `edit` has had its say on the text. With a
    /// `user`, the daemon runs as that user, who is given the scratch directory (config, socket,
    /// NOTIFY_SOCKET) first. A `launcher` (prlimit, say) execs vdiskd in turn, so the pid stays the daemon's.
    static func start(
        in scratch: TemporaryDirectory, tgt: String, lunIQN: String, exportPort: Int, shutdownTimeout: Int = 30,
        user: UnprivilegedUser? = nil, launcher: [String] = [], edit: (String) -> String = { $0 }
    ) throws -> DaemonProcess {
        let socketPath = "\(scratch.path)/control.sock"
        let text = edit(config(tgt: tgt, lunIQN: lunIQN, exportPort: exportPort, socketPath: socketPath, shutdownTimeout: shutdownTimeout))
        let configPath = try scratch.write("vdiskd.toml", text)
        let notify = try NotifyReceiver(path: "\(scratch.path)/notify")
        let process = Process()
        if let user {
            try user.own(scratch.path)
            let line = try user.commandLine(try UnprivilegedUser.executable("vdiskd", overriddenBy: "VDISKD"), ["--config", configPath])
            process.executableURL = URL(fileURLWithPath: line[0])
            process.arguments = Array(line.dropFirst())
        } else {
            let line = launcher + ["\(ProcessRunner.productsDirectory)/vdiskd", "--config", configPath]
            process.executableURL = URL(fileURLWithPath: line[0])
            process.arguments = Array(line.dropFirst())
        }
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = notify.path
        process.environment = environment
        let errorsPath = try scratch.write("vdiskd.stderr", "")
        process.standardError = FileHandle(forWritingAtPath: errorsPath)
        try process.run()
        return DaemonProcess(process: process, notify: notify, socketPath: socketPath, configPath: configPath, errorsPath: errorsPath)
    }

    var stderr: String { (try? String(contentsOfFile: errorsPath, encoding: .utf8)) ?? "" }

    var pid: pid_t { process.processIdentifier }

    func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }

    /// The exit status, or nil when it still runs after `timeout`.
    func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        // Polls until exit; bounded by the deadline.
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// SIGTERM, then the exit status (nil when it still runs after `timeout`).
    func terminate(timeout: Duration = .seconds(30)) async -> Int32? {
        signal(SIGTERM)
        return await waitForExit(timeout: timeout)
    }

    /// Kills it if it still runs (the end of a failed test), and hands its stderr to the run's
    /// transcript: every test ends with `stop()` (a `defer`), whether it terminated vdiskd or not.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        ChildTranscript.append(fileAt: errorsPath, of: ["vdiskd"])
    }
}
