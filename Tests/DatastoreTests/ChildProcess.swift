// A vdiskctl process started by a test: output captured as it comes, every wait bounded,
// and the process killed and reaped whatever happens to the test.

import Foundation
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

final class ChildProcess: @unchecked Sendable {
    // Unchecked: `process` is only started in init and then read; output goes through the lock.
    private let process = Process()
    private let output = NIOLockedValueBox((stdout: Data(), stderr: Data(), closedPipes: 0))
    let started = ContinuousClock.now
    let arguments: [String]

    /// Starts the built vdiskctl with `arguments`.
    init(_ arguments: [String]) throws {
        self.arguments = arguments
        process.executableURL = URL(fileURLWithPath: try Self.vdiskctlPath())
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        // An empty read is end of file: the child (and anything it started) closed the pipe.
        out.fileHandleForReading.readabilityHandler = { [output] handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil }
            output.withLockedValue { data.isEmpty ? ($0.closedPipes += 1) : $0.stdout.append(data) }
        }
        err.fileHandleForReading.readabilityHandler = { [output] handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil }
            output.withLockedValue { data.isEmpty ? ($0.closedPipes += 1) : $0.stderr.append(data) }
        }
        try process.run()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    var pid: Int32 { process.processIdentifier }
    var stdout: String { output.withLockedValue { String(decoding: $0.stdout, as: UTF8.self) } }
    var stderr: String { output.withLockedValue { String(decoding: $0.stderr, as: UTF8.self) } }
    var isRunning: Bool { process.isRunning }

    /// Complete stdout lines so far (a line still being written is left out).
    var lines: [String] {
        let text = stdout
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeLast()
        return lines
    }

    func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }

    /// Waits for the exit, at most `timeout`; a process still running then is killed and
    /// the wait fails. Returns the exit status.
    @discardableResult
    func wait(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw ChildProcessError("vdiskctl \(arguments.joined(separator: " ")) still ran after \(timeout); killed it. stderr: \(stderr)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.waitUntilExit()
        // The pipes may still hold the last bytes: wait for both to reach end of file, bounded,
        // since a loaded machine can take a while to run the handlers.
        let drainDeadline = ContinuousClock.now + .seconds(10)
        while output.withLockedValue({ $0.closedPipes }) < 2, ContinuousClock.now < drainDeadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        return process.terminationStatus
    }

    /// Waits until stdout holds at least `count` complete lines starting with `prefix`.
    func waitForLines(prefix: String, count: Int, timeout: Duration = .seconds(60)) async throws -> [String] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let matching = lines.filter { $0.hasPrefix(prefix) }
            if matching.count >= count { return matching }
            guard process.isRunning, ContinuousClock.now < deadline else {
                throw ChildProcessError("vdiskctl \(arguments.joined(separator: " ")) printed \(matching.count) of \(count) '\(prefix)' lines (running: \(process.isRunning)); stderr: \(stderr)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Runs vdiskctl to completion and returns its status and output.
    static func run(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> (status: Int32, stdout: String, stderr: String) {
        let child = try ChildProcess(arguments)
        let status = try await child.wait(timeout: timeout)
        return (status, child.stdout, child.stderr)
    }

    /// The vdiskctl built with the tests: beside the test bundle, else in the package's
    /// .build/debug; VDISKCTL overrides both.
    static func vdiskctlPath() throws -> String {
        if let path = ProcessInfo.processInfo.environment["VDISKCTL"] { return path }
        var candidates: [String] = []
        var bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(bundle.appendingPathComponent("vdiskctl").path)
            bundle.deleteLastPathComponent()
        }
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(package.appendingPathComponent(".build/debug/vdiskctl").path)
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ChildProcessError("no vdiskctl binary found (run `swift build --build-tests` first); looked in \(candidates)")
        }
        return found
    }
}
