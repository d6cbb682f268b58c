// Multipath where it matters: a host namespace with two links to a target namespace (TestSupport's
// PathLab), links cut with `ip link set … down` at the array's side, so only the initiator's
// keepalive can notice. The initiator side runs as the ordinary user in the host namespace:
// vdiskctl as a client straight on the Paths layer, and vdiskd serving a datastore disk through
// its export to a vdiskctl client. Every load is bounded in time.

import Control
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized, .timeLimit(.minutes(10)))
struct VDiskdPathLabTests {
    static let exportIQN = "iqn.2026-11.example.vdiskd:vm1"
    static let exportPort = 3261

    static func vdiskctl() throws -> String { try UnprivilegedUser.executable("vdiskctl", overriddenBy: "VDISKCTL") }
    static func vdiskd() throws -> String { try UnprivilegedUser.executable("vdiskd", overriddenBy: "VDISKD") }

    /// A verified random write+read load (`vdiskctl target bench --verify`) in the host
    /// namespace; its JSON report.
    static func verifiedLoad(_ lab: PathLab, _ arguments: [String], seconds: Int, queueDepth: Int = 32) async throws -> JSONValue {
        let result = try await lab.runInHost(
            try vdiskctl(),
            ["target", "bench", "--verify", "--qd", String(queueDepth), "--bs", "4k", "--seconds", String(seconds), "--json"] + arguments,
            timeout: .seconds(seconds + 60)
        )
        guard let data = result.stdout.data(using: .utf8), let report = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            throw TestSupportError(.startFailed, "vdiskctl bench --verify printed no report: \(result)")
        }
        return report
    }

    static func milliseconds(_ report: JSONValue, _ key: String) -> Double {
        if case .double(let value)? = report[key] { return value }
        return Double(report[key]?.intValue ?? -1)
    }

    // MARK: The Paths layer, client straight on it

    @Test func aCutPathUnderAVerifiedQD32LoadCostsNoErrorAndAtMostThreeSeconds() async throws {
        try await PathLab.with { lab in
            let urls = lab.links.indices.map { lab.url(PathLab.primaryIQN, lun: 1, through: lab.targetPortal(link: $0)) }
            let load = Task {
                try await Self.verifiedLoad(lab, [urls[0], "--path", urls[1], "--nop-interval", "1", "--nop-timeout", "1", "--probe-interval", "1", "--round-robin-ios", "16"], seconds: 14)
            }
            try await Task.sleep(for: .seconds(4))
            let before = try await lab.byteCounters(link: 1)
            try await lab.cut(link: 0)
            try await Task.sleep(for: .seconds(5))
            let carried = try await lab.byteCounters(link: 1).growth(since: before)
            try await lab.restore(link: 0)
            let report = try await load.value
            print("one path cut under QD32: \(report)")
            #expect(report["errors"]?.intValue == 0, "\(report)")
            #expect(report["miscompares"]?.intValue == 0, "\(report)")
            #expect((report["ios"]?.intValue ?? 0) > 1000, "\(report)")
            #expect(Self.milliseconds(report, "longestStallMilliseconds") <= 3000, "\(report)")
            #expect(carried.totalBytes > 4 << 20, "link 1 carried the load while link 0 was cut: \(carried)")
        }
    }

    @Test func deletingTheLUNFailsIOWithinASecondNamingDeviceLoss() async throws {
        try await PathLab.with { lab in
            let urls = lab.links.indices.map { lab.url(PathLab.primaryIQN, lun: 1, through: lab.targetPortal(link: $0)) }
            let load = Task {
                try await Self.verifiedLoad(lab, [urls[0], "--path", urls[1], "--nop-interval", "1", "--nop-timeout", "1", "--probe-interval", "1"], seconds: 6, queueDepth: 8)
            }
            try await Task.sleep(for: .seconds(2))
            let drained = try await lab.deleteLUN(PathLab.primaryIQN, lun: 1)
            let report = try await load.value
            let messages = report["errorMessages"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect((report["errors"]?.intValue ?? 0) > 0, "\(report)")
            #expect(messages.contains { $0.contains("device lost") }, "\(messages)")
            // The stall the LUN's deletion costs: the delete's own drain, then at most a second.
            let bound = 1000 + Double(drained.components.seconds * 1000) + Double(drained.components.attoseconds) / 1e15
            #expect(Self.milliseconds(report, "longestStallMilliseconds") <= bound, "\(report); drain \(drained)")
        }
    }

    /// A silent cut under 1 MiB writes leaves the host's kernel holding unacknowledged data for
    /// the dead path. Once the path is given up, its socket must be reset, not closed: a closed
    /// socket lingers in FIN-WAIT-1 retransmitting that data, and when the link returned, a
    /// write already retried on the other path (and maybe overwritten since) would land again.
    @Test(arguments: ["native", "libiscsi"])
    func aPathGivenUpForLostKeepsNothingUnsentThatCouldReachTheTargetLater(engine: String) async throws {
        try await PathLab.with { lab in
            let urls = lab.links.indices.map { lab.url(PathLab.primaryIQN, lun: 1, through: lab.targetPortal(link: $0)) }
            let load = Task {
                try await lab.runInHost(try Self.vdiskctl(), [
                    "target", "bench", "--pattern", "seqwrite", "--bs", "1M", "--qd", "8", "--seconds", "10", "--range", "64M", urls[0], "--path", urls[1],
                    "--path-policy", "mru", "--nop-interval", "1", "--nop-timeout", "1", "--probe-interval", "1", "--engine", engine,
                ], timeout: .seconds(70))
            }
            try await Task.sleep(for: .seconds(3))
            try await lab.cut(link: 0)
            try await Task.sleep(for: .seconds(4))
            let portal = lab.targetPortal(link: 0)
            let lingering = try await lab.runInHost(try ExternalTool.ss.path(), [
                "-H", "-t", "-n", "state", "fin-wait-1", "state", "closing", "state", "last-ack", "dst", "\(portal.host):\(portal.port)",
            ], as: nil).check()
            try await lab.restore(link: 0)
            let result = try await load.value
            #expect(lingering.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(engine): sockets to the cut portal still hold data: \(lingering.stdout)")
            #expect(result.succeeded, "\(result)")
        }
    }

    // MARK: vdiskd in the host namespace

    /// vdiskd as the ordinary user in the host namespace, its target reached over `paths`, a
    /// datastore disk exported on 127.0.0.1:3261 of the host namespace. Returns once the export
    /// serves, with the control socket's path.
    static func startDaemon(_ lab: PathLab, paths: String, extra: String = "") async throws -> (ChildProcess, String) {
        let folder = try lab.folder("vdiskd")
        let url = lab.url(PathLab.primaryIQN, lun: 1, through: lab.targetPortal(link: 0))
        for arguments in [["datastore", "format", url, "--label", "ds1"], ["disk", "create", url, "vm1", "--size", "32MiB"]] {
            let made = try await lab.runInHost(try vdiskctl(), arguments, timeout: .seconds(60))
            try #require(made.succeeded, "\(made)")
        }
        let socket = "\(folder)/control.sock"
        let config = ConfigFixtures.minimal
            .replacingOccurrences(of: "/run/vdiskd/control.sock", with: socket)
            .replacingOccurrences(of: "[daemon]\n", with: "[daemon]\nstate_directory = \"\(folder)/state\"\n")
            .replacingOccurrences(of: "portal = \"127.0.0.1:3260\"\n", with: paths + "\nnop_interval_seconds = 1\nnop_timeout_seconds = 1\nprobe_interval_seconds = 1\n" + extra)
            .replacingOccurrences(of: "iqn.2026-11.example:lun1", with: PathLab.primaryIQN)
            .replacingOccurrences(of: "host_uuid = ", with: "heartbeat_interval_seconds = 3\nheartbeat_lease_seconds = 16\nhost_uuid = ")
        let configPath = "\(folder)/vdiskd.toml"
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        try UnprivilegedUser.standard.own(folder)
        let daemon = try await lab.spawnInHost(try vdiskd(), ["--config", configPath], stdoutPath: "\(folder)/vdiskd.log")
        let serving = await BoundedWait.until(timeout: .seconds(60), interval: .milliseconds(200)) {
            let exports = try? await ControlClient(socketPath: socket).call("exports.list")
            return exports?.arrayValue?.first?["state"] == .string("running")
        }
        if !serving { ChildTranscript.append(fileAt: "\(folder)/vdiskd.log", of: ["vdiskd"]) }
        try #require(serving, "vdiskd did not serve its export within 60 s: \(daemon.outputTail())")
        return (daemon, socket)
    }

    static func paths(_ socket: String) async throws -> [JSONValue] {
        try await ControlClient(socketPath: socket).call("paths.list").arrayValue?.first?["paths"]?.arrayValue ?? []
    }

    static var exportURL: String { "iscsi://127.0.0.1:\(exportPort)/\(exportIQN)/0" }

    /// Ends the daemon with SIGTERM (exit 0 expected) and hands its log to the transcript.
    static func stop(_ daemon: ChildProcess, socket: String) async -> ProcessExitStatus? {
        daemon.send(signal: SIGTERM)
        let status = await daemon.waitForExit(timeout: .seconds(40))
        if status == nil { daemon.send(signal: SIGKILL) }
        ChildTranscript.append(fileAt: (socket as NSString).deletingLastPathComponent + "/vdiskd.log", of: ["vdiskd"])
        return status
    }

    /// Port binding and a cut: two paths from two source addresses, each on its own link, to
    /// the one shared portal; a verified QD32 load through the export; both links' counters move;
    /// link 0 is cut and restored under the load: no client error, no stall above 3 s, the
    /// datastore's lock and heartbeat never fenced.
    @Test func twoBoundPathsToOnePortalCarryTheExportsLoadAndACutCostsTheClientNothing() async throws {
        try await PathLab.with { lab in
            let shared = "\(lab.sharedPortal.host):\(lab.sharedPortal.port)"
            let paths = """
                paths = [{ portal = "\(shared)", source = "\(lab.hostAddress(link: 0))", name = "nic0" }, { portal = "\(shared)", source = "\(lab.hostAddress(link: 1))", name = "nic1" }]
                path_policy = "round_robin"
                round_robin_ios = 16
                """
            let (daemon, socket) = try await Self.startDaemon(lab, paths: paths)
            let counters = [try await lab.byteCounters(link: 0), try await lab.byteCounters(link: 1)]
            let load = Task { try await Self.verifiedLoad(lab, [Self.exportURL], seconds: 16) }
            try await Task.sleep(for: .seconds(4))
            let moved = [try await lab.byteCounters(link: 0).growth(since: counters[0]), try await lab.byteCounters(link: 1).growth(since: counters[1])]
            try await lab.cut(link: 0)
            try await Task.sleep(for: .seconds(5))
            try await lab.restore(link: 0)
            let report = try await load.value
            print("port binding, one link cut under the export's QD32 load: \(report); before the cut \(moved)")
            #expect(moved.allSatisfy { $0.totalBytes > 2 << 20 }, "both links carry the load: \(moved)")
            #expect(report["errors"]?.intValue == 0 && report["miscompares"]?.intValue == 0, "\(report)")
            #expect(Self.milliseconds(report, "longestStallMilliseconds") <= 3000, "\(report)")

            let listed = try await Self.paths(socket)
            #expect(listed.map { $0["source"]?.stringValue ?? "" } == [lab.hostAddress(link: 0), lab.hostAddress(link: 1)].map { "address \($0)" }, "\(listed)")
            #expect((listed.first?["failures"]?.intValue ?? 0) >= 1, "\(listed)")
            let back = await BoundedWait.until(timeout: .seconds(15), interval: .milliseconds(250)) {
                (try? await Self.paths(socket))?.allSatisfy { $0["state"] == .string("active") } == true
            }
            let afterCut = try await Self.paths(socket)
            #expect(back, "path nic0 came back: \(afterCut)")
            let store = try await ControlClient(socketPath: socket).call("datastores.list").arrayValue?.first
            #expect(store?["state"] == .string("running"), "\(store ?? .null)")
            let disk = try await ControlClient(socketPath: socket).call("disks.list").arrayValue?.first
            #expect(disk?["state"] == .string("running"), "the disk keeps its lock: \(disk ?? .null)")
            #expect(await Self.stop(daemon, socket: socket) == .exited(0))
        }
    }

    /// Every path cut: shorter than the APD timeout, a write waits and lands; longer, it fails
    /// at the timeout (± 1 s); when the links return, the disk serves again without a restart
    /// (the cut stays inside the heartbeat lease, so the host is not fenced).
    @Test func allPathsDownWaitsThenFailsAtTheAPDTimeoutThenRecoversByItself() async throws {
        try await PathLab.with { lab in
            let portals = lab.links.indices.map { "\"\(lab.targetPortal(link: $0).host):\(lab.targetPortal(link: $0).port)\"" }
            let (daemon, socket) = try await Self.startDaemon(lab, paths: "portals = [\(portals.joined(separator: ", "))]\npath_policy = \"mru\"", extra: "apd_timeout_seconds = 5\n")
            let folder = (socket as NSString).deletingLastPathComponent
            func write(_ pattern: Int, timeout: Duration = .seconds(60)) async throws -> (CommandResult, Duration) {
                let file = "\(folder)/block-\(pattern)"
                try Data(repeating: UInt8(pattern), count: 4096).write(to: URL(fileURLWithPath: file))
                try UnprivilegedUser.standard.own(file)
                let started = ContinuousClock.now
                let result = try await lab.runInHost(try Self.vdiskctl(), ["target", "write", Self.exportURL, "--lba", "2048", "--in", file], timeout: timeout)
                return (result, ContinuousClock.now - started)
            }
            let (first, _) = try await write(1)
            try #require(first.succeeded, "\(first)")

            // Shorter than the timeout: the write waits for the paths, then lands.
            try await lab.cutAll()
            let short = Task { try await write(2) }
            try await Task.sleep(for: .milliseconds(2500))
            await lab.restoreAll()
            let (waited, waitedFor) = try await short.value
            #expect(waited.succeeded, "\(waited)")
            #expect(waitedFor >= .seconds(1), "the write did wait for a path: \(waitedFor)")

            // Longer: the write fails at the APD timeout, counted from the last good I/O.
            let recovered = await BoundedWait.until(timeout: .seconds(15), interval: .milliseconds(200)) {
                (try? await Self.paths(socket))?.allSatisfy { $0["state"] == .string("active") } == true
            }
            let pathsNow = try await Self.paths(socket)
            try #require(recovered, "\(pathsNow)")
            try await lab.cutAll()
            let cutAt = ContinuousClock.now
            let (failed, _) = try await write(3)
            let failedAfter = ContinuousClock.now - cutAt
            #expect(!failed.succeeded, "\(failed)")
            #expect(failedAfter >= .seconds(4) && failedAfter <= .seconds(6), "the error came \(failedAfter) after the cut (apd_timeout 5 s)")
            let target = try await ControlClient(socketPath: socket).call("targets.list").arrayValue?.first
            #expect(target?["state"] == .string("recovering"), "\(target ?? .null)")
            try await Task.sleep(for: .seconds(2))
            await lab.restoreAll()

            // Back by itself: the target runs again and the client writes and reads.
            let running = await BoundedWait.until(timeout: .seconds(20), interval: .milliseconds(250)) {
                (try? await ControlClient(socketPath: socket).call("targets.list"))?.arrayValue?.first?["state"] == .string("running")
            }
            let targetsNow = try await ControlClient(socketPath: socket).call("targets.list")
            #expect(running, "\(targetsNow)")
            let (again, _) = try await write(4)
            #expect(again.succeeded, "\(again)")
            let read = try await lab.runInHost(try Self.vdiskctl(), ["target", "read", Self.exportURL, "--lba", "2048", "--blocks", "8"], timeout: .seconds(60))
            #expect(read.succeeded && read.stdout == String(repeating: "\u{4}", count: 4096), "\(read.status) \(read.stderr)")
            let store = try await ControlClient(socketPath: socket).call("datastores.list").arrayValue?.first
            #expect(store?["state"] == .string("running"), "not fenced: \(store ?? .null)")
            #expect(await Self.stop(daemon, socket: socket) == .exited(0))
        }
    }

    /// The LUN deleted under the daemon: the target is failed naming device loss, the client's
    /// I/O fails at once, nothing hangs; once the LUN is back, `vdiskctl paths reopen` serves
    /// it again without a restart.
    @Test func deviceLossFailsTheTargetUntilAnExplicitReopen() async throws {
        try await PathLab.with { lab in
            let portals = lab.links.indices.map { "\"\(lab.targetPortal(link: $0).host):\(lab.targetPortal(link: $0).port)\"" }
            let (daemon, socket) = try await Self.startDaemon(lab, paths: "portals = [\(portals.joined(separator: ", "))]")
            // A block the disk has allocated, so reading it must reach the LUN.
            let file = (socket as NSString).deletingLastPathComponent + "/block"
            try Data(repeating: 9, count: 4096).write(to: URL(fileURLWithPath: file))
            try UnprivilegedUser.standard.own(file)
            let written = try await lab.runInHost(try Self.vdiskctl(), ["target", "write", Self.exportURL, "--lba", "0", "--in", file], timeout: .seconds(60))
            try #require(written.succeeded, "\(written)")
            _ = try await lab.deleteLUN(PathLab.primaryIQN, lun: 1)
            let started = ContinuousClock.now
            let read = try await lab.runInHost(try Self.vdiskctl(), ["target", "read", Self.exportURL, "--lba", "0", "--blocks", "8"], timeout: .seconds(60))
            #expect(!read.succeeded && read.stderr.contains("LOGICAL UNIT NOT SUPPORTED"), "\(read)")
            #expect(ContinuousClock.now - started < .seconds(3), "the client's read failed at once (one vdiskctl login included)")
            let failed = await BoundedWait.until(timeout: .seconds(10), interval: .milliseconds(200)) {
                let target = try? await ControlClient(socketPath: socket).call("targets.list").arrayValue?.first
                return target?["state"] == .string("failed") && target?["reason"]?.stringValue?.contains("device lost") == true
            }
            let targetNow = try await ControlClient(socketPath: socket).call("targets.list")
            #expect(failed, "\(targetNow)")

            try await lab.recreateLUN(PathLab.primaryIQN, lun: 1)
            let reopened = try await lab.runInHost(try Self.vdiskctl(), ["paths", "reopen", "lun1", "--socket", socket], timeout: .seconds(60))
            #expect(reopened.succeeded, "\(reopened)")
            let running = await BoundedWait.until(timeout: .seconds(15), interval: .milliseconds(250)) {
                (try? await ControlClient(socketPath: socket).call("targets.list"))?.arrayValue?.first?["state"] == .string("running")
            }
            let listed = try await ControlClient(socketPath: socket).call("targets.list")
            #expect(running, "\(listed)")
            let again = try await lab.runInHost(try Self.vdiskctl(), ["target", "read", Self.exportURL, "--lba", "0", "--blocks", "8"], timeout: .seconds(60))
            #expect(again.succeeded, "\(again)")
            #expect(await Self.stop(daemon, socket: socket) == .exited(0))
        }
    }

    /// A path flapping every 200 ms for 30 s under a light load: it is damped (not used while
    /// it flaps), the client sees no error, and the daemon's CPU stays far from a busy loop.
    @Test func aFlappingPathIsDampedAndCannotSpinTheDaemon() async throws {
        try await PathLab.with { lab in
            let portals = lab.links.indices.map { "\"\(lab.targetPortal(link: $0).host):\(lab.targetPortal(link: $0).port)\"" }
            let (daemon, socket) = try await Self.startDaemon(lab, paths: "portals = [\(portals.joined(separator: ", "))]\npath_policy = \"round_robin\"\nround_robin_ios = 4")
            let load = Task { try await Self.verifiedLoad(lab, [Self.exportURL], seconds: 34, queueDepth: 2) }
            try await Task.sleep(for: .seconds(2))
            let cpuBefore = try ProcessCPUTime.of(daemon.pid)
            let flap = try lab.flap(link: 1, period: .milliseconds(200), duration: .seconds(30))
            try await Task.sleep(for: .seconds(12))
            let midway = try await Self.paths(socket).map { ($0["reads"]?.intValue ?? 0) + ($0["writes"]?.intValue ?? 0) }
            try await Task.sleep(for: .seconds(15))
            let late = try await Self.paths(socket)
            let lateIOs = late.map { ($0["reads"]?.intValue ?? 0) + ($0["writes"]?.intValue ?? 0) }
            let cuts = await flap.finished()
            let pathEvents = (try await ControlClient(socketPath: socket).call("events.list")["events"]?.arrayValue ?? [])
                .filter { $0["state"] == .string("paths") }.map { "\($0["time"]?.stringValue ?? "") \($0["reason"]?.stringValue ?? "")" }
            print("path events while flapping:\n\(pathEvents.joined(separator: "\n"))")
            let cpu = try ProcessCPUTime.of(daemon.pid) - cpuBefore
            let report = try await load.value
            print("flapping link 1 (\(cuts) cuts): daemon CPU \(cpu) over ~30 s; I/O per path from 12 s to 27 s: \(zip(lateIOs, midway).map { $0 - $1 }); \(report)")
            #expect(report["errors"]?.intValue == 0 && report["miscompares"]?.intValue == 0, "\(report)")
            let flapping = lateIOs[1] - midway[1]
            let steady = lateIOs[0] - midway[0]
            // Usually the flapping path carries a handful of I/Os here (2 of ~10,500 in one run).
            // Its session can survive a stretch of the flap, as long as every NOP-Out finds a
            // window the link is up, until the keepalive catches it: once it carried 271 of 5455
            // over 8 s after the prober reopened it, under round robin's one-in-two share. A path
            // that took I/O as if healthy would carry half.
            #expect(steady > 100 && flapping * 10 < steady, "the flapping path carried \(flapping) of \(flapping + steady) I/Os while it flapped: \(late)")
            #expect(late[1]["reason"]?.stringValue?.isEmpty == false, "\(late)")
            // A busy loop on any one thread alone would take the whole 30 s.
            #expect(cpu < .seconds(20), "the daemon used \(cpu) of CPU in 30 s of flapping")
            #expect(await Self.stop(daemon, socket: socket) == .exited(0))
        }
    }
}
