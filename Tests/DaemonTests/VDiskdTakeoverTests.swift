// A real takeover still fences: daemon A is paused (SIGSTOP) past its lease, another host
// breaks its lock and writes, A resumes with a client's write waiting. A fences before that
// write reaches the LUN, shows `fenced` everywhere, and comes back by `datastores recover`.

import Control
import Daemon
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(5))) struct VDiskdTakeoverTests {
    static let lunIQN = "iqn.2026-11.org.vdiskd.test:takeover-lun"
    static let exportIQN = "iqn.2026-11.example.vdiskd:vm1"
    static let chunk = 64 << 10

    /// A 1 s heartbeat and a 4 s lease, and metrics on `metricsPort`.
    static func edit(metricsPort: Int) -> (String) -> String {
        { text in
            text.replacingOccurrences(of: "target = \"lun1\"\n", with: "target = \"lun1\"\nheartbeat_interval_seconds = 1\nheartbeat_lease_seconds = 4\n")
                .replacingOccurrences(of: "[daemon]\n", with: "[daemon]\nmetrics_listen = \"127.0.0.1:\(metricsPort)\"\n")
        }
    }

    static func vdiskctl(_ arguments: [String]) async throws -> ProcessRunner.Output {
        try await ProcessRunner.run("\(ProcessRunner.productsDirectory)/vdiskctl", arguments)
    }

    @Test func aPausedHostWhoseDiskWasTakenOverFencesAndRecoversWithoutRestart() async throws {
        try await PreparedLUN.with(iqn: Self.lunIQN, diskSize: "4MiB") { lun in
            let exportPort = try LoopbackPort.reserve()
            let metricsPort = try LoopbackPort.reserve()
            let daemon = try lun.startDaemon(exportPort: exportPort, edit: Self.edit(metricsPort: metricsPort))
            defer {
                daemon.signal(SIGCONT)
                daemon.stop()
            }
            try #require(await daemon.notify.waitFor("READY=1", timeout: 60) != nil, "no READY=1: \(daemon.stderr)")
            let exportURL = "iscsi://127.0.0.1:\(exportPort)/\(Self.exportIQN)/0"
            #expect(try await VDiskdRecoveryTests.roundTrip(exportURL, seed: 1, scratch: lun.scratch))

            // A freezes. Host B waits out A's lease, breaks its lock (bumping A's generation and
            // preempting its key) and writes its own bytes.
            daemon.signal(SIGSTOP)
            let paused = ContinuousClock.now
            let bytesB = Data(TestPattern.bytes(seed: 77, count: Self.chunk).readableBytesView)
            let inB = "\(lun.scratch.path)/b.bin"
            try bytesB.write(to: URL(fileURLWithPath: inB))
            let takeover = try await Self.vdiskctl([
                "disk", "write", lun.url, "vm1", "--offset", "0", "--in", inB, "--fua",
                "--host-name", "host-b", "--heartbeat-interval", "1s", "--lease", "4s", "--lock-wait", "30s",
            ])
            #expect(takeover.status == 0, "host B: \(takeover.stderr)")
            #expect(takeover.stderr.contains("recovered host"), "host B did not take over: \(takeover.stderr)")
            #expect(ContinuousClock.now - paused >= .seconds(4), "B took over before A's lease ran out")

            // A client's write is waiting for A when it resumes: it must fail, and never land.
            let late = Task {
                try await ProcessRunner.run(try ExternalTool.qemuIo.path(), ["-f", "raw", "-c", "write -P 170 0 64k", exportURL], timeout: 60)
            }
            try await Task.sleep(for: .milliseconds(500))
            daemon.signal(SIGCONT)
            let lateWrite = try await late.value
            #expect(lateWrite.status != 0 || lateWrite.stderr.contains("failed"), "A's write after the takeover was acknowledged: \(lateWrite.stdout)")
            // The documented sense: NOT READY, LOGICAL UNIT NOT READY, MANUAL INTERVENTION REQUIRED.
            #expect(lateWrite.stderr.contains("(0x0403)"), "\(lateWrite.stderr)")

            // The LUN holds B's bytes, as read through tgt by a third host.
            let outPath = "\(lun.scratch.path)/after.bin"
            let read = try await Self.vdiskctl(["disk", "read", lun.url, "vm1", "--offset", "0", "--length", "64k", "--out", outPath])
            #expect(read.status == 0, "\(read.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: outPath)) == bytesB, "a write of A reached the LUN after B's takeover")

            // A says it is fenced: status JSON and tables, metric, log, event log.
            let client = ControlClient(socketPath: daemon.socketPath)
            let store = try await client.call("datastores.list").arrayValue?.first
            #expect(store?["state"] == .string("fenced"), "\(store ?? .null)")
            #expect(store?["mount"]?["fenced"]?.stringValue != nil, "\(store ?? .null)")
            let disk = try await client.call("disks.list").arrayValue?.first
            #expect(disk?["state"] == .string("fenced"), "\(disk ?? .null)")
            let datastoresTable = try await Self.vdiskctl(["datastores", "--socket", daemon.socketPath])
            #expect(datastoresTable.stdout.contains("fenced ("), "\(datastoresTable.stdout)")
            let disksTable = try await Self.vdiskctl(["disks", "--socket", daemon.socketPath])
            #expect(disksTable.stdout.contains("fenced ("), "\(disksTable.stdout)")
            let scraped = try #require(await HTTPProbe.scrape(port: metricsPort))
            #expect(HTTPProbe.value(of: "vdiskd_datastore_fenced{datastore=\"ds1\"}", in: scraped) == 1, "\(scraped)")
            #expect(daemon.stderr.contains("error") && daemon.stderr.contains("datastore fenced"), "\(daemon.stderr)")
            let events = try await Self.vdiskctl(["events", "--socket", daemon.socketPath])
            #expect(events.stdout.contains("datastore:ds1") && events.stdout.contains("fenced"), "\(events.stdout)")
            #expect(await daemon.notify.waitFor("STATUS=datastore ds1 fenced", timeout: 10) != nil, "no STATUS line for the fence")

            // Recovery without a restart: a new mount with a new generation, the disk and export back.
            let recover = try await Self.vdiskctl(["datastores", "recover", "ds1", "--socket", daemon.socketPath])
            #expect(recover.status == 0, "\(recover.stdout) \(recover.stderr)")
            #expect(recover.stdout.contains("left what another host took over"), "\(recover.stdout)")
            let back = try await client.call("datastores.list").arrayValue?.first
            #expect(back?["state"] == .string("running"), "\(back ?? .null)")
            #expect(try await VDiskdRecoveryTests.roundTrip(exportURL, seed: 2, scratch: lun.scratch), "the export after recovery")
            let rescraped = try #require(await HTTPProbe.scrape(port: metricsPort))
            #expect(HTTPProbe.value(of: "vdiskd_datastore_fenced{datastore=\"ds1\"}", in: rescraped) == 0, "\(rescraped)")
            #expect(await daemon.terminate() == 0, "\(daemon.stderr)")
        }
    }
}
