// The daemon as deployed against a fault: a client's write waits in the initiator for tgtd,
// which is down; the datastore's lease runs out and it fences. The write must fail then, and
// must not land when tgtd comes back and the session is recovered (the replay a fence has to
// take back; DATASTORE.md, "fences").

import BlockDevice
import Control
import Daemon
import Foundation
import ISCSI
import ISCSIAddress
import NIOCore
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(3))) struct VDiskdFenceRevocationTests {
    static let iqn = "iqn.2026-12.org.vdiskd.test:fence-revocation"

    static func datastoreState(_ daemon: DaemonProcess) async throws -> String? {
        try await ControlClient(socketPath: daemon.socketPath).call("datastores.list").arrayValue?.first?["state"]?.stringValue
    }

    static func waitForState(_ daemon: DaemonProcess, _ state: String, within limit: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try await datastoreState(daemon) == state { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await datastoreState(daemon) == state
    }

    @Test func aWriteWaitingForTheTargetWhenTheLeaseRunsOutNeverLands() async throws {
        try await PreparedLUN.with(iqn: Self.iqn, diskSize: "4MiB") { lun in
            let exportPort = try LoopbackPort.reserve()
            // A 4 s lease, and the initiator's default 120 s recovery: far longer than the outage.
            let daemon = try lun.startDaemon(exportPort: exportPort) { text in
                text.replacingOccurrences(of: "host_uuid =", with: "heartbeat_interval_seconds = 1\nheartbeat_lease_seconds = 4\nhost_uuid =")
            }
            defer { daemon.stop() }
            try #require(await daemon.notify.waitFor("READY=1", timeout: 60) != nil, "no READY=1: \(daemon.stderr)")

            let client = try await ISCSILUN.connect(try ISCSITargetURL(parsing: "iscsi://127.0.0.1:\(exportPort)/iqn.2026-11.example.vdiskd:vm1/0"))
            let before = TestPattern.bytes(seed: 61, count: 64 << 10)
            let after = TestPattern.bytes(seed: 62, count: 64 << 10)
            // The block is allocated now, so the next write is data only, straight to the LUN.
            try await client.write(before, at: 0, fua: true)

            await lun.tgt.crash()
            let write = Task { () -> String? in
                do {
                    try await client.write(after, at: 0, fua: true)
                    return nil
                } catch {
                    return "\(error)"
                }
            }
            // The write waits inside the daemon for the session's recovery; the lease runs out.
            #expect(try await Self.waitForState(daemon, "fenced", within: .seconds(20)), "the datastore did not fence: \(daemon.stderr.suffix(3000))")
            let fenced = ContinuousClock.now
            let failed = await write.value
            #expect(failed != nil, "the write waiting for tgtd succeeded although the datastore fenced")
            #expect(ContinuousClock.now - fenced < .seconds(10), "the write was answered only \(ContinuousClock.now - fenced) after the fence")

            // tgtd returns; the recovered session must not send the write, and a renewal that finds
            // the slot untouched lifts the lease fence.
            try await lun.tgt.restart()
            #expect(try await Self.waitForState(daemon, "running", within: .seconds(30)), "the lease fence was not lifted: \(daemon.stderr.suffix(3000))")
            try await Task.sleep(for: .seconds(2))
            #expect(try await client.read(at: 0, blockCount: 128) == before, "the write taken back by the fence landed after tgtd returned")
            try await client.close()
            #expect(await daemon.terminate() == 0, "\(daemon.stderr.suffix(3000))")
        }
    }
}
