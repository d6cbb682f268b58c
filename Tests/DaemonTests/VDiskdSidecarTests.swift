// Sidecars through the whole daemon: vdiskd on a real tgt LUN, qemu-io as the client, the
// inspection filter keeping its cumulative histograms in the disk's sidecar. The counts survive
// a restart and a takeover by another host (daemon A SIGKILLed, daemon B with takeover =
// "auto"); a corrupted sidecar is reported with its disk and filter, the daemon stays up, the
// saved counts are not overwritten until a person resets them, and `datastore check` names it.

import Control
import Daemon
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(5))) struct VDiskdSidecarTests {
    static let lunIQN = "iqn.2026-11.org.vdiskd.test:sidecar-lun"
    static let exportIQN = "iqn.2026-11.example.vdiskd:vm1"
    static let interval = 1
    static let lease = 4
    static let uuidA = "5b1d47e2-7c3f-4b66-8e2f-8a5c3d9f2b01"
    static let uuidB = "5b1d47e2-7c3f-4b66-8e2f-8a5c3d9f2b02"

    /// vm1 with an inspection filter saving every second; the host's identity, a 1 s heartbeat
    /// and a 4 s lease; takeover = "auto" for a standby.
    static func edit(host: String, uuid: String, auto: Bool) -> (String) -> String {
        { text in
            hostConfigEdit(text, host: host, uuid: uuid, interval: interval, lease: lease)
                .replacingOccurrences(of: "name = \"vm1\"\n\n", with: "name = \"vm1\"\n\(auto ? "takeover = \"auto\"\n" : "")filters = [{ name = \"inspection\", save_seconds = 1 }]\n\n")
        }
    }

    static func vdiskctl(_ arguments: [String]) async throws -> ProcessRunner.Output {
        try await ProcessRunner.run("\(ProcessRunner.productsDirectory)/vdiskctl", arguments)
    }

    /// `count` writes of 64 KiB (each flushed) through the export; requires every one acknowledged.
    static func writes(_ port: Int, _ count: Int, pattern: Int) async throws {
        let url = "iscsi://127.0.0.1:\(port)/\(exportIQN)/0"
        let commands = ["-f", "raw"] + (0..<count).flatMap { ["-c", "write -P \(pattern) \($0 * 65536) 64k", "-c", "flush"] }
        let output = try await ProcessRunner.run(try ExternalTool.qemuIo.path(), commands + [url], timeout: 120)
        #expect(output.status == 0 && output.stdout.components(separatedBy: "wrote 65536/65536").count - 1 == count, "\(output.stdout.suffix(500)) \(output.stderr)")
    }

    /// The disk's histogram of `kind` as the daemon answers it.
    static func histogram(_ daemon: DaemonProcess, kind: String = "length") async throws -> JSONValue {
        try await ControlClient(socketPath: daemon.socketPath).call("disks.histogram", params: .object(["disk": .string("ds1/vm1"), "kind": .string(kind)]))
    }

    /// Every class's counts of every kind: what must survive.
    static func allCounts(_ daemon: DaemonProcess) async throws -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for kind in ["length", "seek", "seek-closest", "outstanding", "latency", "interarrival"] {
            result[kind] = try await histogram(daemon, kind: kind)["classes"]
        }
        return result
    }

    static func writeCount(_ counts: [String: JSONValue]) -> Int {
        counts["length"]?["writes"]?.arrayValue?.compactMap(\.intValue).reduce(0, +) ?? -1
    }

    static func start(_ lun: PreparedLUN, _ host: String, uuid: String, auto: Bool = false, port: Int) async throws -> (DaemonProcess, TemporaryDirectory) {
        let scratch = TemporaryDirectory("vdiskd-test")
        let daemon = try DaemonProcess.start(in: scratch, tgt: lun.portal, lunIQN: lun.iqn, exportPort: port, edit: edit(host: host, uuid: uuid, auto: auto))
        let ready = await daemon.notify.waitFor("READY=1", timeout: 60) != nil
        if !ready { daemon.stop() }
        try #require(ready, "no READY=1 from \(host): \(daemon.stderr)")
        return (daemon, scratch)
    }

    @Test func histogramsSurviveARestartAndATakeover() async throws {
        try await PreparedLUN.with(iqn: Self.lunIQN, diskSize: "8MiB") { lun in
            let portA = try LoopbackPort.reserve()
            let portB = try LoopbackPort.reserve()
            var (daemonA, scratchA) = try await Self.start(lun, "host-a", uuid: Self.uuidA, port: portA)
            defer { daemonA.stop(); _ = scratchA }
            try await Self.writes(portA, 20, pattern: 1)
            let first = try await Self.allCounts(daemonA)
            #expect(Self.writeCount(first) == 20, "\(first)")
            // A second inspection filter is refused (one per category); the refused one never
            // attached, so it must not save its empty counts over the first one's.
            try await Task.sleep(for: .seconds(2))
            let refused = try await Self.vdiskctl(["disks", "filters", "add", "ds1/vm1", "inspection", "--socket", daemonA.socketPath])
            #expect(refused.status != 0 && refused.stderr.contains("already has a inspection filter"), "\(refused.stderr)")

            // A clean restart: the filter saves at close and loads at open; nothing is lost.
            #expect(await daemonA.terminate() == 0, "\(daemonA.stderr)")
            (daemonA, scratchA) = try await Self.start(lun, "host-a", uuid: Self.uuidA, port: portA)
            let restarted = try await Self.allCounts(daemonA)
            #expect(restarted == first, "after a restart: \(restarted) against \(first)")
            #expect(try await Self.histogram(daemonA)["sidecar_problem"] == nil)
            try await Self.writes(portA, 12, pattern: 2)
            let second = try await Self.allCounts(daemonA)
            #expect(Self.writeCount(second) == 32, "\(second)")

            // A takeover: B waits for A's disk; A is killed (no close, no last save) after its
            // periodic save had time to run; B breaks A's lock and loads what A saved.
            try await Task.sleep(for: .seconds(3))
            let saved = try await Self.allCounts(daemonA)
            #expect(saved == second, "the counts moved without I/O")
            let (daemonB, scratchB) = try await Self.start(lun, "host-b", uuid: Self.uuidB, auto: true, port: portB)
            defer { daemonB.stop(); _ = scratchB }
            #expect(try await ControlClient(socketPath: daemonB.socketPath).call("disks.list").arrayValue?.first?["state"] == .string("waiting"))
            daemonA.signal(SIGKILL)
            var served = false
            for _ in 0..<300 where !served {
                served = try await ControlClient(socketPath: daemonB.socketPath).call("exports.list").arrayValue?.first?["state"] == .string("running")
                if !served { try await Task.sleep(for: .milliseconds(100)) }
            }
            try #require(served, "B never took the disk over: \(daemonB.stderr)")
            let takenOver = try await Self.allCounts(daemonB)
            #expect(takenOver == saved, "after the takeover: \(takenOver) against \(saved)")
            try await Self.writes(portB, 5, pattern: 3)
            #expect(Self.writeCount(try await Self.allCounts(daemonB)) == 37)
            #expect(await daemonB.terminate() == 0, "\(daemonB.stderr)")
            let check = try await Self.vdiskctl(["datastore", "check", lun.url])
            #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        }
    }

    @Test func aCorruptedSidecarIsReportedNeverResetAndNamedByCheck() async throws {
        try await PreparedLUN.with(iqn: Self.lunIQN, diskSize: "8MiB") { lun in
            let port = try LoopbackPort.reserve()
            var (daemon, scratch) = try await Self.start(lun, "host-a", uuid: Self.uuidA, port: port)
            defer { daemon.stop(); _ = scratch }
            try await Self.writes(port, 10, pattern: 1)
            #expect(await daemon.terminate() == 0, "\(daemon.stderr)")

            // Scribble over the saved histograms on the LUN (the sidecar's first content unit).
            let info = try await Self.vdiskctl(["disk", "info", lun.url, "vm1", "--json"])
            let json = try JSONDecoder().decode(JSONValue.self, from: Data(info.stdout.utf8))
            let block = try #require(json["sidecarBlock"]?.intValue, "\(info.stdout)")
            #expect(block > 0)
            let backing = try #require(lun.tgt.targets.first?.luns.first?.backingFile)
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: backing))
            try handle.seek(toOffset: UInt64(block) * (1 << 20) + 4096 + 100)
            try handle.write(contentsOf: Data(repeating: 0xA5, count: 64))
            try handle.close()

            // The daemon comes up, serves the disk, and says what is wrong and where.
            (daemon, scratch) = try await Self.start(lun, "host-a", uuid: Self.uuidA, port: port)
            let disk = try await ControlClient(socketPath: daemon.socketPath).call("disks.list").arrayValue?.first
            #expect(disk?["state"] == .string("running"), "\(disk ?? .null)")
            let problem = try await Self.histogram(daemon)["sidecar_problem"]?.stringValue
            #expect(problem?.contains("sidecar inspection/histograms") == true && problem?.contains("CRC32C") == true, "\(problem ?? "none")")
            let stderr = daemon.stderr
            #expect(stderr.contains("filter event") && stderr.contains("filter inspection on disk ds1/vm1")
                    && stderr.contains("inspection/histograms") && stderr.contains("CRC32C"), "\(stderr)")
            // I/O goes on and is counted in memory; closing does not save over the damaged sidecar.
            try await Self.writes(port, 3, pattern: 2)
            #expect(Self.writeCount(try await Self.allCounts(daemon)) == 3)
            #expect(await daemon.terminate() == 0, "\(daemon.stderr)")
            let check = try await Self.vdiskctl(["datastore", "check", lun.url, "--json"])
            #expect(check.status == 1, "\(check.stdout) \(check.stderr)")
            #expect(check.stdout.contains("badSidecar") && check.stdout.contains("sidecar 'inspection/histograms' of disk 'vm1'"), "\(check.stdout)")

            // A reset is how a person accepts the loss: saving starts again and check is clean.
            (daemon, scratch) = try await Self.start(lun, "host-a", uuid: Self.uuidA, port: port)
            let reset = try await Self.vdiskctl(["disks", "inspection", "ds1/vm1", "reset", "--socket", daemon.socketPath])
            #expect(reset.status == 0, "\(reset.stderr)")
            #expect(try await Self.histogram(daemon)["sidecar_problem"] == nil)
            try await Self.writes(port, 4, pattern: 3)
            #expect(await daemon.terminate() == 0, "\(daemon.stderr)")
            let clean = try await Self.vdiskctl(["datastore", "check", lun.url])
            #expect(clean.status == 0, "\(clean.stdout) \(clean.stderr)")
            (daemon, scratch) = try await Self.start(lun, "host-a", uuid: Self.uuidA, port: port)
            #expect(Self.writeCount(try await Self.allCounts(daemon)) == 4)
            #expect(await daemon.terminate() == 0, "\(daemon.stderr)")
        }
    }
}
