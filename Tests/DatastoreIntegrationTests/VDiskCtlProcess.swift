// One vdiskctl process started by a test: a separate host with its own iSCSI session.
// Output goes to files; every wait is bounded; a process left running is killed.

import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

final class VDiskCtlProcess: Sendable {
    let child: ChildProcess
    let arguments: [String]

    private init(child: ChildProcess, arguments: [String]) {
        self.child = child
        self.arguments = arguments
    }

    /// Whatever happens to the test, the host process does not outlive it.
    deinit {
        child.send(signal: SIGKILL)
        _ = child.pollExit()
    }

    /// Starts the built vdiskctl with `arguments`, its output in files in `directory`.
    static func start(_ arguments: [String], in directory: ScratchDirectory) async throws -> VDiskCtlProcess {
        let name = UUID().uuidString.prefix(8)
        let child = try await ChildProcess.spawn(
            executable: try executablePath(),
            arguments: arguments,
            stdoutPath: directory.file("vdiskctl-\(name).out"),
            stderrPath: directory.file("vdiskctl-\(name).err")
        )
        return VDiskCtlProcess(child: child, arguments: arguments)
    }

    /// Runs vdiskctl to its end (at most `timeout`) and returns its exit code and output.
    static func run(_ arguments: [String], in directory: ScratchDirectory, timeout: Duration = .seconds(60)) async throws -> (status: Int32, stdout: String, stderr: String) {
        let process = try await start(arguments, in: directory)
        let status = try await process.wait(timeout: timeout)
        return (status, process.stdout, process.stderr)
    }

    var stdout: String { Self.contents(child.stdoutPath) }
    var stderr: String { Self.contents(child.stderrPath) }

    /// Complete stdout lines so far; a line still being written is left out.
    var lines: [String] {
        var lines = stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeLast()
        return lines
    }

    func signal(_ number: Int32) {
        child.send(signal: number)
    }

    /// The exit code; a process still running after `timeout` is killed and the wait fails.
    @discardableResult
    func wait(timeout: Duration) async throws -> Int32 {
        guard let status = await child.waitForExit(timeout: timeout) else {
            await child.terminate(gracePeriod: .zero)
            throw SharedLUNError("vdiskctl \(arguments.joined(separator: " ")) still ran after \(timeout); killed it. stderr: \(stderr)")
        }
        switch status {
        case .exited(let code): return code
        case .signalled(let signal): return 128 + signal
        case .lost: throw SharedLUNError("the exit status of vdiskctl \(arguments.joined(separator: " ")) was lost")
        }
    }

    /// Waits until stdout holds `count` complete lines starting with `prefix`.
    func waitForLines(prefix: String, count: Int, timeout: Duration = .seconds(60)) async throws -> [String] {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        for _ in 0..<Int(timeout / .milliseconds(20)) + 1 {
            let matching = lines.filter { $0.hasPrefix(prefix) }
            if matching.count >= count { return matching }
            guard child.isRunning, clock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw SharedLUNError("vdiskctl \(arguments.joined(separator: " ")) printed \(lines.filter { $0.hasPrefix(prefix) }.count) of \(count) '\(prefix)' lines (running: \(child.isRunning)); stderr: \(stderr)")
    }

    private static func contents(_ path: String) -> String {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// The vdiskctl built with the tests (beside the test bundle, else .build/debug);
    /// VDISKCTL overrides both.
    static func executablePath() throws -> String {
        try BuiltExecutable.path("vdiskctl", overriddenBy: "VDISKCTL")
    }
}
