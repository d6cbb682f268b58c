// The built vdiskd's metrics: off by default, served on metrics_listen, unmoved by bad requests;
// `vdiskctl metrics` and `vdiskctl disks stats` against it.

import Control
import Daemon
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(2))) struct VDiskdMetricsTests {
    private var vdiskctl: String { "\(ProcessRunner.productsDirectory)/vdiskctl" }

    /// The minimal config (its target unreachable) with the socket in `scratch` and, if given, metrics on.
    /// The minimal config (its target unreachable) with the socket in `scratch` and, if given, metrics on.
    private func start(_ scratch: TemporaryDirectory, exportPort: Int, metricsPort: Int?) throws -> DaemonProcess {
        try DaemonProcess.start(in: scratch, tgt: "127.0.0.1:1", lunIQN: "iqn.2026-11.example:lun1", exportPort: exportPort) { text in
            guard let metricsPort else { return text }
            return text.replacingOccurrences(of: "[daemon]\n", with: "[daemon]\nmetrics_listen = \"127.0.0.1:\(metricsPort)\"\n")
        }
    }

    @Test func metricsAreOffByDefault() async throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        let exportPort = try LoopbackPort.reserve()
        let daemon = try start(scratch, exportPort: exportPort, metricsPort: nil)
        defer { daemon.stop() }
        try #require(await daemon.notify.waitFor("READY=1", timeout: 30) != nil)
        // Whatever else it may listen on (an export), no other TCP port: no metrics listener.
        #expect(HTTPProbe.listeningPorts(pid: daemon.pid).subtracting([exportPort]).isEmpty)
        let status = try await ControlClient(socketPath: "\(scratch.path)/control.sock").call("status")
        #expect(status["services"]?.arrayValue?.contains { $0["name"] == .string("metrics") } == false)
        // The exposition is still there through the control socket.
        let viaControl = try await ProcessRunner.run(vdiskctl, ["metrics", "--socket", "\(scratch.path)/control.sock"])
        #expect(viaControl.status == 0, "\(viaControl.stderr)")
        #expect(viaControl.stdout.contains("vdiskd_control_requests_total{method=\"metrics\"} 1\n"))
        #expect(await daemon.terminate() == 0, "\(daemon.stderr)")
    }

    @Test func listenerServesCountersThatMoveAndShrugsOffBadRequests() async throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        let metricsPort = try LoopbackPort.reserve()
        let daemon = try start(scratch, exportPort: try LoopbackPort.reserve(), metricsPort: metricsPort)
        defer { daemon.stop() }
        try #require(await daemon.notify.waitFor("READY=1", timeout: 30) != nil)
        #expect(LoopbackPort.isListening(pid: daemon.pid, port: metricsPort))

        let client = ControlClient(socketPath: "\(scratch.path)/control.sock")
        let series = "vdiskd_control_requests_total{method=\"status\"}"
        let before = try #require(await HTTPProbe.scrape(port: metricsPort))
        #expect(before.contains("# TYPE vdiskd_export_sessions gauge"))
        #expect(HTTPProbe.value(of: "vdiskd_export_sessions{export=\"vm1\"}", in: before) == 0)
        let statusesBefore = HTTPProbe.value(of: series, in: before) ?? 0
        for _ in 0..<3 { _ = try await client.call("status") }
        let after = try #require(await HTTPProbe.scrape(port: metricsPort))
        #expect(HTTPProbe.value(of: series, in: after) == statusesBefore + 3)

        let garbage = await HTTPProbe.exchange(port: metricsPort, "\u{1}\u{2} nonsense \r\n\r\n")
        #expect(garbage.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(garbage)")
        let missing = await HTTPProbe.exchange(port: metricsPort, "GET /admin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(missing.hasPrefix("HTTP/1.1 404 Not Found\r\n"), "\(missing)")
        let huge = await HTTPProbe.exchange(port: metricsPort, "GET /metrics HTTP/1.1\r\nX: " + String(repeating: "y", count: 40_000) + "\r\n\r\n")
        #expect(huge.isEmpty || huge.hasPrefix("HTTP/1.1 413 Content Too Large\r\n"), "\(huge.prefix(200))")

        // The daemon is unaffected: it still scrapes and answers on its socket.
        #expect(await HTTPProbe.scrape(port: metricsPort) != nil)
        #expect(try await client.call("status")["services"]?.arrayValue?.contains { $0["name"] == .string("metrics") && $0["state"] == .string("running") } == true)

        let stats = try await ProcessRunner.run(vdiskctl, ["disks", "stats", "--socket", "\(scratch.path)/control.sock"])
        #expect(stats.status == 0, "\(stats.stderr)")
        #expect(stats.stdout.contains("ds1/vm1"))
        #expect(stats.stdout.split(separator: "\n").filter { $0.hasPrefix("ds1/vm1") }.count == 3)
        let unknown = try await ProcessRunner.run(vdiskctl, ["disks", "stats", "ds1/nope", "--socket", "\(scratch.path)/control.sock"])
        // Not found is exit 77, as for the other daemon commands.
        #expect(unknown.status == 77)
        #expect(unknown.stderr.contains("no disk \"ds1/nope\" is configured"), "\(unknown.stderr)")
        #expect(await daemon.terminate() == 0, "\(daemon.stderr)")
    }
}
