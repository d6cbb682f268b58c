// A vdiskd process for the metrics tests: started from a config text with NOTIFY_SOCKET set, stopped with SIGTERM.

import Daemon
import Datastore
import Foundation
import ISCSI
import TestSupport

struct SpawnedDaemon {
    let process: Process
    let receiver: NotifyReceiver
    let errorsPath: String

    /// Writes `config` as `scratch/vdiskd.toml` and starts the built vdiskd on it.
    static func start(config: String, in scratch: ScratchDirectory) throws -> SpawnedDaemon {
        let path = try scratch.write("vdiskd.toml", config)
        let receiver = try NotifyReceiver(path: "\(scratch.path)/notify")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(ProcessRunner.productsDirectory)/vdiskd")
        process.arguments = ["--config", path]
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = receiver.path
        process.environment = environment
        let errorsPath = try scratch.write("vdiskd.stderr", "")
        process.standardError = FileHandle(forWritingAtPath: errorsPath)
        try process.run()
        return SpawnedDaemon(process: process, receiver: receiver, errorsPath: errorsPath)
    }

    var pid: pid_t { process.processIdentifier }

    /// What the daemon wrote to stderr so far.
    var errors: String { (try? String(contentsOfFile: errorsPath, encoding: .utf8)) ?? "" }

    /// SIGTERM, then waits up to `timeout` seconds for the exit; returns its status (nil: still running).
    func stop(timeout: Double = 30) async throws -> Int32? {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(timeout)
        // Polls until exit; bounded by the deadline.
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// Formats the LUN at `url` as datastore "ds1" holding one 16 MiB disk "vm1", as an administrator would.
    static func prepareDatastore(_ url: ISCSIURL) async throws {
        let setup = try await ISCSILUN.connect(url)
        _ = try await Datastore.format(device: setup, options: FormatOptions(label: "ds1"))
        let admin = try await Datastore.mount(device: setup, host: HostIdentity(uuid: UUID(), name: "admin"))
        _ = try await admin.createDisk(name: "vm1", size: 16 << 20)
        try await admin.unmount()
        try await setup.close()
    }
}
