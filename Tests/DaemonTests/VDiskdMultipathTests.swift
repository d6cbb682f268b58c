// vdiskd with a multipath target: tgtd listening on two loopback portals, the daemon (as an
// unprivileged user) reaching its LUN over both, a datastore disk served through its export.
// tgtd drops one path's connection under a client's writes; the operator lists, disables and
// re-enables paths and switches the policy live.

import Control
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(6))) struct VDiskdMultipathTests {
    static let lunIQN = "iqn.2026-12.org.vdiskd.test:multipath-daemon"
    static let exportIQN = "iqn.2026-11.example.vdiskd:vm1"
    static let writes = 400
    static let chunk = 64 << 10

    /// Adds a second portal on 127.0.0.2 (the same port) to the prepared LUN's tgtd.
    static func secondPortal(_ lun: PreparedLUN) async throws -> String {
        let second = "127.0.0.2:\(lun.tgt.portal.port)"
        try await lun.tgt.tgtadm(["--lld", "iscsi", "--op", "new", "--mode", "portal", "--param", "portal=\(second)"])
        return second
    }

    /// The minimal config's target turned into a two-path one with 1 s keepalives and probes.
    static func multipath(_ text: String, portals: [String], policy: String) -> String {
        text.replacingOccurrences(of: "portal = \"\(portals[0])\"\n", with: """
            portals = [\(portals.map { "\"\($0)\"" }.joined(separator: ", "))]
            \(policy)
            nop_interval_seconds = 1
            nop_timeout_seconds = 1
            probe_interval_seconds = 1

            """)
    }

    static func paths(_ daemon: DaemonProcess) async throws -> [JSONValue] {
        try await ControlClient(socketPath: daemon.socketPath).call("paths.list").arrayValue?.first?["paths"]?.arrayValue ?? []
    }

    static func ios(_ path: JSONValue) -> Int { (path["reads"]?.intValue ?? 0) + (path["writes"]?.intValue ?? 0) }

    static func pattern(_ index: Int) -> Int { index % 251 + 1 }

    @Test func aDroppedPathUnderClientWritesCostsTheClientNothingAndTheHostKeepsItsLock() async throws {
        try await PreparedLUN.with(iqn: Self.lunIQN, diskSize: "64MiB") { lun in
            let second = try await Self.secondPortal(lun)
            let exportPort = try LoopbackPort.reserve()
            let metricsPort = try LoopbackPort.reserve()
            let daemon = try lun.startDaemon(exportPort: exportPort, user: .standard) { text in
                Self.multipath(text, portals: [lun.portal, second], policy: "path_policy = \"round_robin\"\nround_robin_ios = 4")
                    .replacingOccurrences(of: "[daemon]\n", with: "[daemon]\nmetrics_listen = \"127.0.0.1:\(metricsPort)\"\n")
            }
            defer { daemon.stop() }
            try #require(await daemon.notify.waitFor("READY=1", timeout: 60) != nil, "no READY=1: \(daemon.stderr)")
            let before = try await Self.paths(daemon)
            #expect(before.map { $0["destination"]?.stringValue } == [lun.portal, second])
            #expect(before.allSatisfy { $0["state"] == .string("active") }, "\(before)")

            let exportURL = "iscsi://127.0.0.1:\(exportPort)/\(Self.exportIQN)/0"
            let commands = ["-f", "raw"] + (0..<Self.writes).flatMap { index in
                ["-c", "write -P \(Self.pattern(index)) \(index * Self.chunk) 64k", "-c", "flush", "-c", "sleep 5"]
            }
            let writer = Task { try await ProcessRunner.run(try ExternalTool.qemuIo.path(), commands + [exportURL], timeout: 240) }
            try await Task.sleep(for: .seconds(1))
            let tid = try #require(lun.tgt.tid(of: Self.lunIQN))
            let connections = try await lun.tgt.connections(tid: tid)
            #expect(connections.count == 2, "one session per path: \(connections)")
            let victim = try #require(connections.first)
            try await lun.tgt.tgtadm(["--lld", "iscsi", "--op", "delete", "--mode", "conn", "--tid", String(tid), "--sid", String(victim.sid), "--cid", String(victim.cid)])

            let written = try await writer.value
            let acknowledged = written.stdout.components(separatedBy: "wrote \(Self.chunk)/\(Self.chunk) bytes").count - 1
            #expect(written.status == 0 && acknowledged == Self.writes, "\(acknowledged) acknowledged; \(written.stderr)")
            #expect(!written.stderr.contains("failed"), "\(written.stderr)")
            var reads: [String] = ["-f", "raw"]
            for index in 0..<Self.writes { reads += ["-c", "read -P \(Self.pattern(index)) \(index * Self.chunk) 64k"] }
            let readBack = try await ProcessRunner.run(try ExternalTool.qemuIo.path(), reads + [exportURL], timeout: 120)
            #expect(readBack.status == 0 && !readBack.stdout.contains("Pattern verification failed"), "\(readBack.stderr)\(readBack.stdout.suffix(400))")

            // The path failed, came back by itself, and both carried I/O; the host was never fenced.
            let deadline = ContinuousClock.now + .seconds(15)
            var after = try await Self.paths(daemon)
            while ContinuousClock.now < deadline, !after.allSatisfy({ $0["state"] == .string("active") }) {
                try await Task.sleep(for: .milliseconds(200))
                after = try await Self.paths(daemon)
            }
            #expect(after.allSatisfy { $0["state"] == .string("active") }, "\(after)")
            #expect(after.reduce(0) { $0 + ($1["failures"]?.intValue ?? 0) } >= 1, "\(after)")
            #expect(after.allSatisfy { Self.ios($0) > 0 }, "\(after)")
            let store = try await ControlClient(socketPath: daemon.socketPath).call("datastores.list").arrayValue?.first
            #expect(store?["state"] == .string("running"), "\(store ?? .null)")
            let events = try await ControlClient(socketPath: daemon.socketPath).call("events.list")["events"]?.arrayValue ?? []
            #expect(!events.contains { $0["state"] == .string("fenced") }, "\(events)")
            #expect(events.contains { ($0["reason"]?.stringValue ?? "").contains("active → dead") }, "\(events)")
            let scraped = try #require(await HTTPProbe.scrape(port: metricsPort))
            #expect(HTTPProbe.value(of: "vdiskd_path_up{target=\"lun1\",path=\"path0\"}", in: scraped) == 1, "\(scraped)")
            #expect((HTTPProbe.value(of: "vdiskd_path_failures{target=\"lun1\",path=\"path0\"}", in: scraped) ?? 0)
                + (HTTPProbe.value(of: "vdiskd_path_failures{target=\"lun1\",path=\"path1\"}", in: scraped) ?? 0) >= 1, "\(scraped)")
            #expect(await daemon.terminate() == 0, "\(daemon.stderr)")
        }
    }

    @Test func theOperatorListsDisablesEnablesAndSwitchesPolicyLive() async throws {
        try await PreparedLUN.with(iqn: Self.lunIQN, diskSize: "64MiB") { lun in
            let second = try await Self.secondPortal(lun)
            let exportPort = try LoopbackPort.reserve()
            let daemon = try lun.startDaemon(exportPort: exportPort, user: .standard) { text in
                Self.multipath(text, portals: [lun.portal, second], policy: "path_policy = \"round_robin\"\nround_robin_ios = 10")
            }
            defer { daemon.stop() }
            try #require(await daemon.notify.waitFor("READY=1", timeout: 60) != nil, "no READY=1: \(daemon.stderr)")
            let exportURL = "iscsi://127.0.0.1:\(exportPort)/\(Self.exportIQN)/0"
            func load() async throws {
                let result = try await ProcessRunner.run(try ExternalTool.qemuIo.path(), ["-f", "raw", "-c", "write -P 7 0 4k", "-c", "read -P 7 0 4k"] + Array(repeating: ["-c", "read 0 4k"], count: 200).flatMap { $0 } + [exportURL], timeout: 60)
                try #require(result.status == 0, "\(result.stderr)")
            }
            func vdiskctl(_ arguments: [String]) async throws -> ProcessRunner.Output {
                try await ProcessRunner.run("\(ProcessRunner.productsDirectory)/vdiskctl", arguments + ["--socket", daemon.socketPath])
            }

            // Round robin every 10 commands: both paths carry about half.
            let start = try await Self.paths(daemon).map(Self.ios)
            try await load()
            let shared = zip(try await Self.paths(daemon).map(Self.ios), start).map { $0 - $1 }
            // One command at a time, switching every 10: half each, give or take a switch and
            // the datastore's own heartbeat I/O.
            #expect(shared.allSatisfy { $0 > 60 } && abs(shared[0] - shared[1]) <= 30, "round robin shares the client's ~200 reads: \(shared)")
            let table = try await vdiskctl(["paths"])
            #expect(table.status == 0 && table.stdout.contains("round_robin") && table.stdout.contains(second), "\(table.stdout)\(table.stderr)")

            // Disabled: no I/O on path1 until it is enabled again.
            let disabled = try await vdiskctl(["paths", "disable", "lun1", "path1", "--json"])
            #expect(disabled.status == 0, "\(disabled.stderr)")
            let offStart = try await Self.paths(daemon).map(Self.ios)
            try await load()
            let offDelta = zip(try await Self.paths(daemon).map(Self.ios), offStart).map { $0 - $1 }
            #expect(offDelta[1] == 0 && offDelta[0] > 150, "\(offDelta)")
            #expect(try await Self.paths(daemon)[1]["state"] == .string("disabled"))
            let enabled = try await vdiskctl(["paths", "enable", "lun1", "path1"])
            #expect(enabled.status == 0, "\(enabled.stderr)")
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline, try await Self.paths(daemon)[1]["state"] != .string("active") {
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(try await Self.paths(daemon)[1]["state"] == .string("active"))

            // MRU: one path only.
            let mru = try await vdiskctl(["paths", "policy", "lun1", "mru"])
            #expect(mru.status == 0, "\(mru.stderr)")
            let mruStart = try await Self.paths(daemon).map(Self.ios)
            try await load()
            let mruDelta = zip(try await Self.paths(daemon).map(Self.ios), mruStart).map { $0 - $1 }
            #expect(mruDelta.filter { $0 > 0 }.count == 1, "\(mruDelta)")

            // Bad requests say what was wrong.
            let unknownPolicy = try await vdiskctl(["paths", "policy", "lun1", "fastest"])
            #expect(unknownPolicy.status != 0 && unknownPolicy.stderr.contains("fixed, mru, round_robin"), "\(unknownPolicy.stderr)")
            let unknownPath = try await vdiskctl(["paths", "disable", "lun1", "path7"])
            #expect(unknownPath.status != 0 && unknownPath.stderr.contains("path0, path1"), "\(unknownPath.stderr)")
            #expect(await daemon.terminate() == 0, "\(daemon.stderr)")
        }
    }

    /// istgt lists every portal of its portal group in a SendTargets answer (tgt 1.0.85 lists
    /// only the portal it was asked through): a target configured with one portal and
    /// `discover_paths` gets a path per listed portal.
    @Test func discoveryAddsEveryPortalTheTargetListsAsAPath() async throws {
        let iqn = "iqn.2026-12.org.vdiskd.test:discovered-paths"
        let configuration = IstgtConfiguration(targets: [IstgtTargetSpec(iqn: iqn, luns: [.file(0, size: 64 << 20)])], extraPortalHosts: ["127.0.0.2"])
        try await withIstgt(configuration) { istgt in
            let portal = "\(istgt.portal.host):\(istgt.portal.port)"
            let url = "iscsi://\(portal)/\(iqn)/0"
            for arguments in [["datastore", "format", url, "--label", "ds1"], ["disk", "create", url, "vm1", "--size", "16MiB"]] {
                let made = try await ProcessRunner.run("\(ProcessRunner.productsDirectory)/vdiskctl", arguments)
                try #require(made.status == 0, "\(made.stderr)")
            }
            let scratch = TemporaryDirectory("vdiskd-test")
            let exportPort = try LoopbackPort.reserve()
            let daemon = try DaemonProcess.start(in: scratch, tgt: portal, lunIQN: iqn, exportPort: exportPort, user: .standard) { text in
                text.replacingOccurrences(of: "lun = 1\n", with: "lun = 0\ndiscover_paths = true\npath_policy = \"round_robin\"\nround_robin_ios = 1\n")
            }
            defer { daemon.stop() }
            try #require(await daemon.notify.waitFor("READY=1", timeout: 60) != nil, "no READY=1: \(daemon.stderr)")
            let paths = try await Self.paths(daemon)
            #expect(paths.compactMap { $0["destination"]?.stringValue } == [portal, "127.0.0.2:\(istgt.portal.port)"], "\(paths)")
            #expect(paths.allSatisfy { $0["state"] == .string("active") && Self.ios($0) > 0 }, "the datastore's mount I/O took both: \(paths)")
            #expect(await daemon.terminate() == 0, "\(daemon.stderr)")
        }
    }

    @Test func theLibiscsiEngineServesTheDaemonEndToEnd() async throws {
        try await PreparedLUN.with(iqn: Self.lunIQN, diskSize: "64MiB") { lun in
            let exportPort = try LoopbackPort.reserve()
            let daemon = try lun.startDaemon(exportPort: exportPort, user: .standard) { text in
                text.replacingOccurrences(of: "lun = 1\n", with: "lun = 1\nengine = \"libiscsi\"\n")
            }
            defer { daemon.stop() }
            try #require(await daemon.notify.waitFor("READY=1", timeout: 60) != nil, "no READY=1: \(daemon.stderr)")
            let target = try await ControlClient(socketPath: daemon.socketPath).call("targets.list").arrayValue?.first
            #expect(target?["engine"] == .string("libiscsi") && target?["state"] == .string("running"), "\(target ?? .null)")
            let exportURL = "iscsi://127.0.0.1:\(exportPort)/\(Self.exportIQN)/0"
            let written = try await ProcessRunner.run(try ExternalTool.qemuIo.path(), ["-f", "raw", "-c", "write -P 42 0 1M", "-c", "flush", "-c", "read -P 42 0 1M", exportURL], timeout: 60)
            #expect(written.status == 0 && !written.stdout.contains("verification failed"), "\(written.stderr)\(written.stdout)")
            #expect(await daemon.terminate() == 0, "\(daemon.stderr)")
            // What the daemon wrote through libiscsi is on the LUN: another process reads it back.
            let check = try await ProcessRunner.run("\(ProcessRunner.productsDirectory)/vdiskctl", ["datastore", "check", lun.url])
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        }
    }
}
