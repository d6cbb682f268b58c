// vdiskd against a real tgt with metrics on: the initiator's command counter and the heartbeat
// renewals move between two scrapes while the daemon holds its datastore.

import Control
import Daemon
import Datastore
import Foundation
import ISCSI
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(3))) struct VDiskdStorageMetricsTests {
    static let iqn = "iqn.2026-11.org.vdiskd.test:metrics"

    @Test func initiatorAndHeartbeatCountersMove() async throws {
        try await PreparedLUN.with(iqn: Self.iqn, diskSize: "16MiB") { lun in
            let metricsPort = try LoopbackPort.reserve()
            let daemon = try lun.startDaemon(exportPort: try LoopbackPort.reserve()) { text in
                text.replacingOccurrences(of: "[daemon]\n", with: "[daemon]\nmetrics_listen = \"127.0.0.1:\(metricsPort)\"\n")
                    .replacingOccurrences(of: "host_uuid =", with: "heartbeat_interval_seconds = 1\nheartbeat_lease_seconds = 4\nhost_uuid =")
            }
            defer { daemon.stop() }
            try #require(await daemon.notify.waitFor("READY=1", timeout: 60) != nil, "no READY=1: \(daemon.stderr)")

            // The disk is open; its statistics (zeros: no client has connected to its export yet)
            // are in the metrics too.
            let stats = try await ControlClient(socketPath: daemon.socketPath).call("disks.stats")
            #expect(stats.arrayValue?.first?["state"] == .string("running"))
            #expect(stats.arrayValue?.first?["read"]?["operations"] == .int(0))
            let commands = "vdiskd_initiator_commands_total{target=\"lun1\"}"
            let renewals = "vdiskd_datastore_heartbeat_renewals_total{datastore=\"ds1\"}"
            let first = try #require(await HTTPProbe.scrape(port: metricsPort))
            // Mounting and opening the disk already sent commands to tgt.
            let commandsAtReady = try #require(HTTPProbe.value(of: commands, in: first))
            #expect(commandsAtReady > 0)
            // Each renewal sends at least two commands (a write of its slot and a read of the
            // slots): wait for two renewals after the first scrape, bounded.
            let renewalsAtReady = HTTPProbe.value(of: renewals, in: first) ?? 0
            var latest = first
            let deadline = Date().addingTimeInterval(20)
            while (HTTPProbe.value(of: renewals, in: latest) ?? 0) < renewalsAtReady + 2 && Date() < deadline {
                try await Task.sleep(for: .milliseconds(500))
                latest = try #require(await HTTPProbe.scrape(port: metricsPort))
            }
            #expect((HTTPProbe.value(of: renewals, in: latest) ?? 0) >= renewalsAtReady + 2)
            #expect(try #require(HTTPProbe.value(of: commands, in: latest)) >= commandsAtReady + 4)
            #expect(HTTPProbe.value(of: "vdiskd_initiator_errors_total{target=\"lun1\"}", in: latest) == 0)
            #expect(HTTPProbe.value(of: "vdiskd_datastore_heartbeat_failures_total{datastore=\"ds1\"}", in: latest) == nil)

            // prometheus_client's own parser accepts the whole exposition and sees every family's type.
            let families = try await ExpositionParser.families(latest, in: lun.scratch)
            #expect(families["vdiskd_initiator_commands"] == "counter")
            #expect(families["vdiskd_datastore_heartbeat_renewals"] == "counter")
            #expect(families["vdiskd_disk_latency_seconds"] == "histogram")
            #expect(families["vdiskd_export_sessions"] == "gauge")
            #expect(families["vdiskd_control_requests"] == "counter")
            #expect(families["vdiskd_disk_operations"] == "counter")

            #expect(await daemon.terminate() == 0, "\(daemon.stderr)")
        }
    }
}
