// vdiskd on a real tgt LUN whose connection is lost: the target shows recovering, then running
// with a reconnect counted, the export keeps serving across it, and a target away longer than
// recovery_timeout_seconds ends failed with the reason.

import Control
import Daemon
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(5))) struct VDiskdRecoveryTests {
    static let lunIQN = "iqn.2026-11.org.vdiskd.test:recovery-lun"
    static let exportIQN = "iqn.2026-11.example.vdiskd:vm1"
    static let patternBytes = 256 << 10

    /// The daemon with a 4 s recovery timeout and metrics on `metricsPort`.
    static func edit(metricsPort: Int) -> (String) -> String {
        { text in
            text.replacingOccurrences(of: "lun = 1\n", with: "lun = 1\nrecovery_timeout_seconds = 4\n")
                .replacingOccurrences(of: "[daemon]\n", with: "[daemon]\nmetrics_listen = \"127.0.0.1:\(metricsPort)\"\n")
        }
    }

    /// Writes a pattern through the export with iscsi-dd and reads it back; true when it matches.
    static func roundTrip(_ exportURL: String, seed: UInt64, scratch: TemporaryDirectory) async throws -> Bool {
        let pattern = Data(TestPattern.bytes(seed: seed, count: patternBytes).readableBytesView)
        let patternPath = "\(scratch.path)/pattern-\(seed).bin"
        try pattern.write(to: URL(fileURLWithPath: patternPath))
        try await LibISCSIClient.copy(from: patternPath, to: exportURL, blockSize: 4096, blocks: patternBytes / 4096)
        let backPath = "\(scratch.path)/back-\(seed).bin"
        try await LibISCSIClient.copy(from: exportURL, to: backPath, blockSize: 4096, blocks: patternBytes / 4096)
        return try Data(contentsOf: URL(fileURLWithPath: backPath)) == pattern
    }

    /// `vdiskctl targets --json`'s one target, polled until `done` says so; bounded by `looks` × 50 ms.
    static func target(_ daemon: DaemonProcess, looks: Int = 200, until done: (JSONValue) -> Bool) async throws -> JSONValue? {
        var last: JSONValue?
        for _ in 0..<looks {
            let output = try await ProcessRunner.run("\(ProcessRunner.productsDirectory)/vdiskctl", ["targets", "--json", "--socket", daemon.socketPath])
            if output.status == 0, let entry = try JSONDecoder().decode(JSONValue.self, from: Data(output.stdout.utf8)).arrayValue?.first {
                last = entry
                if done(entry) { return entry }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return last
    }

    @Test func aKilledConnectionRecoversAndTheExportKeepsServing() async throws {
        try await PreparedLUN.with(iqn: Self.lunIQN, diskSize: "4MiB") { lun in
            let exportPort = try LoopbackPort.reserve()
            let metricsPort = try LoopbackPort.reserve()
            let daemon = try lun.startDaemon(exportPort: exportPort, edit: Self.edit(metricsPort: metricsPort))
            defer { daemon.stop() }
            try #require(await daemon.notify.waitFor("READY=1", timeout: 60) != nil, "no READY=1: \(daemon.stderr)")
            let exportURL = "iscsi://127.0.0.1:\(exportPort)/\(Self.exportIQN)/0"
            #expect(try await Self.roundTrip(exportURL, seed: 1, scratch: lun.scratch), "the export before the loss")

            // Refuse logins for a moment, so recovering is there to be seen, then kill the connection.
            try await lun.tgt.tgtadm(["--lld", "iscsi", "--op", "unbind", "--mode", "target", "--tid", "1", "-I", "ALL"])
            #expect(try await lun.tgt.dropConnections(tid: 1) == 1)
            let recovering = try await Self.target(daemon) { $0["state"] == .string("recovering") && ($0["attempts"]?.intValue ?? 0) >= 1 }
            #expect(recovering?["state"] == .string("recovering"), "\(recovering ?? .null)")
            #expect(recovering?["since"]?.stringValue != nil, "\(recovering ?? .null)")
            #expect(recovering?["reason"]?.stringValue?.contains("login attempt") == true, "\(recovering ?? .null)")
            try await lun.tgt.tgtadm(["--lld", "iscsi", "--op", "bind", "--mode", "target", "--tid", "1", "-I", "ALL"])

            let running = try await Self.target(daemon) { $0["state"] == .string("running") && $0["reconnects"] == .int(1) }
            #expect(running?["state"] == .string("running"), "\(running ?? .null)")
            #expect(running?["reconnects"] == .int(1), "\(running ?? .null)")
            #expect(running?["last_event"]?.stringValue?.contains("reconnected") == true, "\(running ?? .null)")
            let table = try await ProcessRunner.run("\(ProcessRunner.productsDirectory)/vdiskctl", ["targets", "--socket", daemon.socketPath])
            #expect(table.stdout.contains("RECONNECTS"), "\(table.stdout)")
            let scraped = try #require(await HTTPProbe.scrape(port: metricsPort))
            #expect(HTTPProbe.value(of: "vdiskd_target_reconnects_total{target=\"lun1\"}", in: scraped) == 1, "\(scraped)")
            #expect(try await Self.roundTrip(exportURL, seed: 2, scratch: lun.scratch), "the export after the reconnection")
            // The datastore kept its heartbeat: it is not fenced.
            let datastores = try await ControlClient(socketPath: daemon.socketPath).call("datastores.list")
            #expect(datastores.arrayValue?.first?["mount"]?["fenced"] == .null, "\(datastores)")
            #expect(datastores.arrayValue?.first?["state"] == .string("running"), "\(datastores)")

            // Away for longer than recovery_timeout_seconds: failed, with the reason.
            await lun.tgt.crash()
            let failed = try await Self.target(daemon, looks: 300) { $0["state"] == .string("failed") }
            #expect(failed?["state"] == .string("failed"), "\(failed ?? .null)")
            #expect(failed?["reason"]?.stringValue?.contains("recovery timeout 4.0 s") == true, "\(failed ?? .null)")
            #expect(await daemon.terminate() == 0, "\(daemon.stderr)")
        }
    }

    @Test func shutdownDuringALongRecoveryDoesNotWaitForIt() async throws {
        try await PreparedLUN.with(iqn: Self.lunIQN, diskSize: "4MiB") { lun in
            // The default 120 s recovery timeout, far longer than the 15 s shutdown timeout.
            let daemon = try lun.startDaemon(exportPort: try LoopbackPort.reserve(), shutdownTimeout: 15)
            defer { daemon.stop() }
            try #require(await daemon.notify.waitFor("READY=1", timeout: 60) != nil, "no READY=1: \(daemon.stderr)")
            await lun.tgt.crash()
            let recovering = try await Self.target(daemon) { $0["state"] == .string("recovering") }
            #expect(recovering?["state"] == .string("recovering"), "\(recovering ?? .null)")
            #expect(recovering?["recovery_timeout_seconds"] == .int(120), "\(recovering ?? .null)")
            let stopping = ContinuousClock.now
            #expect(await daemon.terminate(timeout: .seconds(20)) == 0, "\(daemon.stderr)")
            #expect(ContinuousClock.now - stopping < .seconds(10), "shutdown waited for the recovery: \(daemon.stderr)")
        }
    }
}
