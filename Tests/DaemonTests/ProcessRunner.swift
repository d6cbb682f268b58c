// Runs a program to completion for tests, with its output captured and a time limit.

import Foundation

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
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        killer.cancel()
        return Output(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
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
