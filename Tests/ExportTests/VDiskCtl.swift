// The vdiskctl built with the tests, run as a child process: one-shot datastore and disk
// commands, and `export serve` as a long-lived target that a test stops with SIGTERM.

import Foundation
import TestSupport
import Testing

enum VDiskCtl {
    /// What one finished vdiskctl run left behind.
    struct Run: Sendable, CustomStringConvertible {
        var arguments: [String]
        var status: ProcessExitStatus
        var stdout: String
        var stderr: String

        var description: String { "vdiskctl \(arguments.joined(separator: " ")): \(status)\n\(stdout)\(stderr)" }

        /// stdout as a JSON object (the `--json` output).
        func json() throws -> [String: Any] {
            guard let object = try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any] else {
                throw TestSupportError(.commandFailed, "not a JSON object: \(description)")
            }
            return object
        }

        /// Throws unless vdiskctl exited 0.
        @discardableResult
        func check() throws -> Run {
            guard status.isSuccess else { throw TestSupportError(.commandFailed, description) }
            return self
        }
    }

    /// The vdiskctl built with the tests; VDISKCTL overrides it.
    static func path() throws -> String {
        try BuiltExecutable.path("vdiskctl", overriddenBy: "VDISKCTL")
    }

    /// Starts vdiskctl with its output in two fresh files of `directory`.
    static func spawn(_ arguments: [String], in directory: ScratchDirectory) async throws -> ChildProcess {
        let name = "vdiskctl-\(UUID().uuidString.prefix(8))"
        return try await ChildProcess.spawn(
            executable: try path(), arguments: arguments,
            stdoutPath: directory.file("\(name).out"), stderrPath: directory.file("\(name).err")
        )
    }

    /// Runs vdiskctl to its end; one still running after `timeout` is killed and the run throws.
    static func run(_ arguments: [String], in directory: ScratchDirectory, timeout: Duration = .seconds(60)) async throws -> Run {
        let process = try await spawn(arguments, in: directory)
        guard let status = await process.waitForExit(timeout: timeout) else {
            await process.terminate(gracePeriod: .zero)
            throw TestSupportError(.commandFailed, "vdiskctl \(arguments.joined(separator: " ")) still ran after \(timeout): \(process.outputTail())")
        }
        return Run(
            arguments: arguments, status: status,
            stdout: contents(process.stdoutPath), stderr: contents(process.stderrPath)
        )
    }

    /// A file's text so far ("" when it does not exist yet).
    static func contents(_ path: String) -> String {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}

/// `vdiskctl export serve ... --listen 127.0.0.1:0`, up once it printed its portal.
final class ServedExport: Sendable {
    let process: ChildProcess
    let iqn: String
    let portal: Portal

    private init(process: ChildProcess, iqn: String, portal: Portal) {
        self.process = process
        self.iqn = iqn
        self.portal = portal
    }

    /// Whatever happens to the test, the target does not outlive it.
    deinit {
        if process.isRunning { process.send(signal: SIGKILL) }
        _ = process.pollExit()
    }

    /// Starts `vdiskctl export serve` with `arguments` (what to serve and any options) on a
    /// free loopback port and waits, at most 60 s, for its `portal` line.
    static func start(_ arguments: [String], iqn: String = "iqn.2025-01.io.vdiskd:e2e", in directory: ScratchDirectory) async throws -> ServedExport {
        let process = try await VDiskCtl.spawn(["export", "serve"] + arguments + ["--listen", "127.0.0.1:0", "--iqn", iqn], in: directory)
        // Bounded: 600 looks, 100 ms apart.
        for _ in 0..<600 {
            let banner = VDiskCtl.contents(process.stdoutPath)
            if let line = banner.split(separator: "\n").first(where: { $0.hasPrefix("portal 127.0.0.1:") }),
               let port = Int(line.dropFirst("portal 127.0.0.1:".count)) {
                return ServedExport(process: process, iqn: iqn, portal: Portal(host: "127.0.0.1", port: port))
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        await process.terminate(gracePeriod: .seconds(1))
        throw TestSupportError(.commandFailed, "vdiskctl export serve printed no portal: \(process.outputTail())")
    }

    /// Starts an export, runs `body` with it and stops it on every way out; an export that
    /// did not exit 0 on SIGTERM is an issue of the test.
    static func with<T>(
        _ arguments: [String], iqn: String = "iqn.2025-01.io.vdiskd:e2e", in directory: ScratchDirectory,
        _ body: (ServedExport) async throws -> T
    ) async throws -> T {
        let export = try await start(arguments, iqn: iqn, in: directory)
        let value: T
        do {
            value = try await body(export)
        } catch {
            await export.stop()
            throw error
        }
        let status = await export.stop()
        #expect(status?.isSuccess == true, "export serve exit: \(String(describing: status)) \(export.process.outputTail())")
        return value
    }

    func url(lun: Int) -> String { portal.libiscsiURL(target: iqn, lun: lun) }

    /// SIGTERM, then the exit status (nil: still running after 30 s, and killed).
    @discardableResult
    func stop() async -> ProcessExitStatus? {
        process.send(signal: SIGTERM)
        if let status = await process.waitForExit(timeout: .seconds(30)) { return status }
        await process.terminate(gracePeriod: .zero)
        return nil
    }
}
