// Host crash with HA: daemon B is configured for daemon A's disk with takeover = "auto". While A
// lives, B waits and says for whom; when A is SIGKILLed, B takes the disk over once A's lease has
// run out (not before), within the lease and two heartbeat intervals, and serves it through its
// export with every write A acknowledged. A restarted with its old config does not serve it.

import Control
import Daemon
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(5))) struct VDiskdAutomaticTakeoverTests {
    static let lunIQN = "iqn.2026-11.org.vdiskd.test:ha-lun"
    static let exportIQN = "iqn.2026-11.example.vdiskd:vm1"
    static let interval = 2
    static let lease = 6
    static let writes = 48
    static let chunk = 64 << 10

    /// The host's name and UUID, a 2 s heartbeat and a 6 s lease, and for B takeover = "auto".
    static func edit(host: String, uuid: String, auto: Bool) -> (String) -> String {
        { text in
            hostConfigEdit(text, host: host, uuid: uuid, interval: interval, lease: lease)
                .replacingOccurrences(of: "name = \"vm1\"\n\n", with: auto ? "name = \"vm1\"\ntakeover = \"auto\"\n\n" : "name = \"vm1\"\n\n")
        }
    }

    static let uuidA = "0a3c36f1-6b2e-4a55-9d1e-7f4b2c8e1a01"
    static let uuidB = "0a3c36f1-6b2e-4a55-9d1e-7f4b2c8e1a02"

    /// A daemon of its own scratch directory (kept alive with it) for `host`, once it is READY.
    static func host(_ lun: PreparedLUN, _ host: String, uuid: String, auto: Bool, port: Int) async throws -> (DaemonProcess, TemporaryDirectory) {
        let scratch = TemporaryDirectory("vdiskd-test")
        let daemon = try DaemonProcess.start(in: scratch, tgt: lun.portal, lunIQN: lun.iqn, exportPort: port,
                                             edit: edit(host: host, uuid: uuid, auto: auto))
        let ready = await daemon.notify.waitFor("READY=1", timeout: 60) != nil
        if !ready { daemon.stop() }
        try #require(ready, "no READY=1 from \(host): \(daemon.stderr)")
        return (daemon, scratch)
    }

    /// The waiting disk's reason names `holder`.
    static func expectWaiting(_ daemon: DaemonProcess, for holder: String) async throws {
        let disk = try await disk(daemon)
        #expect(disk?["state"] == .string("waiting"), "\(disk ?? .null)")
        #expect(disk?["reason"]?.stringValue?.hasPrefix("for \(holder) (heartbeat ") == true, "\(disk ?? .null)")
    }

    static func disk(_ daemon: DaemonProcess) async throws -> JSONValue? {
        try await ControlClient(socketPath: daemon.socketPath).call("disks.list").arrayValue?.first
    }

    static func export(_ daemon: DaemonProcess) async throws -> JSONValue? {
        try await ControlClient(socketPath: daemon.socketPath).call("exports.list").arrayValue?.first
    }

    @Test func aSurvivingHostTakesOverAKilledHostsDiskAfterItsLease() async throws {
        try await PreparedLUN.with(iqn: Self.lunIQN, diskSize: "8MiB") { lun in
            let portA = try LoopbackPort.reserve()
            let portB = try LoopbackPort.reserve()
            let daemonA = try lun.startDaemon(exportPort: portA, edit: Self.edit(host: "host-a", uuid: Self.uuidA, auto: false))
            defer { daemonA.stop() }
            try #require(await daemonA.notify.waitFor("READY=1", timeout: 60) != nil, "no READY=1 from A: \(daemonA.stderr)")
            let urlA = "iscsi://127.0.0.1:\(portA)/\(Self.exportIQN)/0"
            let urlB = "iscsi://127.0.0.1:\(portB)/\(Self.exportIQN)/0"

            // A acknowledges 48 writes of 64 KiB, each flushed.
            let commands = ["-f", "raw"] + (0..<Self.writes).flatMap { index in
                ["-c", "write -P \(index + 1) \(index * Self.chunk) 64k", "-c", "flush"]
            }
            let written = try await ProcessRunner.run(try ExternalTool.qemuIo.path(), commands + [urlA], timeout: 120)
            #expect(written.status == 0, "\(written.stderr)")
            #expect(written.stdout.components(separatedBy: "wrote \(Self.chunk)/\(Self.chunk)").count - 1 == Self.writes, "\(written.stdout.suffix(300))")

            // B starts at once with the same disk, takeover = "auto": it waits, naming A.
            let (daemonB, scratchB) = try await Self.host(lun, "host-b", uuid: Self.uuidB, auto: true, port: portB)
            defer { daemonB.stop(); _ = scratchB }
            try await Self.expectWaiting(daemonB, for: "host-a")
            #expect(try await Self.export(daemonB)?["state"] == .string("not-started"))
            let table = try await ProcessRunner.run("\(ProcessRunner.productsDirectory)/vdiskctl", ["disks", "--socket", daemonB.socketPath])
            #expect(table.stdout.contains("waiting for host-a (heartbeat "), "\(table.stdout)")
            // Still waiting after more than a lease while A lives.
            try await Task.sleep(for: .seconds(Self.lease + 1))
            #expect(try await Self.disk(daemonB)?["state"] == .string("waiting"))

            // A dies. B takes over after A's lease, within the lease and two heartbeat intervals.
            daemonA.signal(SIGKILL)
            let killed = ContinuousClock.now
            var tookOver: Duration?
            for _ in 0..<400 {
                if try await Self.export(daemonB)?["state"] == .string("running") {
                    tookOver = ContinuousClock.now - killed
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            let took = try #require(tookOver, "B never served the disk: \(daemonB.stderr)")
            print("automatic takeover: B served A's disk \(took) after A was killed (lease \(Self.lease) s, interval \(Self.interval) s)")
            // A renewed at most an interval before it died, and B counts the lease from the last change it saw.
            #expect(took >= .seconds(Self.lease - Self.interval), "B took over before A's lease ran out: \(took)")
            #expect(took <= .seconds(Self.lease + 2 * Self.interval), "takeover took \(took)")
            let events = try await ControlClient(socketPath: daemonB.socketPath).call("events.list")
            #expect("\(events)".contains("recovered-host"), "\(events)")

            // Every write A acknowledged reads back through B's export.
            let reads = ["-f", "raw"] + (0..<Self.writes).flatMap { index in ["-c", "read -P \(index + 1) \(index * Self.chunk) 64k"] }
            let readBack = try await ProcessRunner.run(try ExternalTool.qemuIo.path(), reads + [urlB], timeout: 120)
            #expect(readBack.status == 0 && !readBack.stdout.contains("Pattern verification failed"), "\(readBack.stdout.prefix(1500)) \(readBack.stderr)")

            // A comes back with its old config: it does not serve the disk, and says who holds it.
            let (restarted, scratchA2) = try await Self.host(lun, "host-a", uuid: Self.uuidA, auto: false, port: portA)
            defer { restarted.stop(); _ = scratchA2 }
            let refused = try await Self.disk(restarted)
            #expect(refused?["state"] == .string("failed"), "\(refused ?? .null)")
            #expect(refused?["reason"]?.stringValue?.contains("locked by host 'host-b'") == true, "\(refused ?? .null)")
            #expect(try await Self.export(restarted)?["state"] == .string("not-started"))
            #expect(await restarted.terminate() == 0, "\(restarted.stderr)")

            // With takeover = "auto" it waits for host-b instead, and a SIGTERM while it waits ends it at once.
            let (standby, scratchA3) = try await Self.host(lun, "host-a", uuid: Self.uuidA, auto: true, port: portA)
            defer { standby.stop(); _ = scratchA3 }
            try await Self.expectWaiting(standby, for: "host-b")
            let stopping = ContinuousClock.now
            #expect(await standby.terminate() == 0, "\(standby.stderr)")
            #expect(ContinuousClock.now - stopping < .seconds(Self.interval * 3), "shutdown waited on the waiting disk")
            #expect(await daemonB.terminate() == 0, "\(daemonB.stderr)")
            // B still held the disk until its clean shutdown: the LUN is consistent.
            let check = try await ProcessRunner.run("\(ProcessRunner.productsDirectory)/vdiskctl", ["datastore", "check", lun.url])
            #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        }
    }
}
