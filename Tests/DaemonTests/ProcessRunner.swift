// Runs a program to completion for tests, with its output captured and a time limit.

import Foundation
import TestSupport

enum ProcessRunner {
    struct Output: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `path` with `arguments`; the process is killed after `timeout` seconds.
    static func run(_ path: String, _ arguments: [String], environment: [String: String]? = nil, timeout: Double = 60) async throws -> Output {
        try await OffPool.run { try runBlocking(path, arguments, environment: environment, timeout: timeout) }
    }

    private static func runBlocking(_ path: String, _ arguments: [String], environment: [String: String]?, timeout: Double) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let environment { process.environment = environment }
        // Output goes to files, not pipes: Foundation's pipe reads crash on EINTR, which the
        // SIGCHLDs of parallel tests' children cause.
        let scratch = TemporaryDirectory("vdiskd-test")
        let outPath = try scratch.write("stdout", "")
        let errPath = try scratch.write("stderr", "")
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        try process.run()
        let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        process.waitUntilExit()
        killer.cancel()
        ChildTranscript.append(fileAt: errPath, of: [path] + arguments)
        let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return Output(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }

    /// The directory holding the built products (vdiskd, vdiskctl) next to the test bundle.
    static var productsDirectory: String {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // The test binary sits inside `X.xctest/...` on some layouts; walk up at most 4 levels.
        for _ in 0..<4 {
            if FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("vdiskd").path) { return directory.path }
            directory.deleteLastPathComponent()
        }
        return "\(ConfigFixtures.repositoryRoot)/.build/debug"
    }
}
