// The product as an ordinary user runs it: no root, no capabilities, no supplementary groups.
// The native initiator against tgt, `vdiskctl export serve` of a datastore disk to a libiscsi
// client, and vdiskd serving a disk, each run through setpriv as UnprivilegedUser.standard.

import Control
import Daemon
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(5))) struct UnprivilegedEndToEndTests {
    static let lunIQN = "iqn.2026-11.org.vdiskd.test:unprivileged-lun"
    static let exportIQN = "iqn.2026-11.example.vdiskd:vm1"
    let user = UnprivilegedUser.standard

    private func vdiskctl() throws -> String {
        try UnprivilegedUser.executable("vdiskctl", overriddenBy: "VDISKCTL")
    }

    /// Runs vdiskctl as the user and requires exit 0.
    @discardableResult
    private func asUser(_ arguments: [String]) async throws -> CommandResult {
        let result = try await user.run(try vdiskctl(), arguments)
        try #require(result.succeeded, "as uid \(user.uid): \(result)")
        return result
    }

    /// `count` bytes of a seeded pattern in `name`, readable by the user.
    private func pattern(_ name: String, in scratch: TemporaryDirectory, seed: UInt64, count: Int) throws -> (path: String, bytes: Data) {
        let bytes = Data(TestPattern.bytes(seed: seed, count: count).readableBytesView)
        let path = "\(scratch.path)/\(name)"
        try bytes.write(to: URL(fileURLWithPath: path))
        try user.own(path)
        return (path, bytes)
    }

    @Test func nativeInitiatorDiscoversInquiresWritesAndReadsAsAnOrdinaryUser() async throws {
        let spec = TgtTargetSpec(iqn: Self.lunIQN, luns: [.file(1, size: 16 << 20)])
        try await withTgt(TgtConfiguration(targets: [spec])) { tgt in
            let portal = "\(tgt.portal.host):\(tgt.portal.port)"
            let url = "iscsi://\(portal)/\(Self.lunIQN)/1"
            let scratch = TemporaryDirectory("vdiskd-test")
            try user.own(scratch.path)

            let discovered = try await asUser(["target", "discover", portal, "--engine", "native"])
            #expect(discovered.stdout.contains(Self.lunIQN), "\(discovered.stdout)")
            let inquiry = try await asUser(["target", "inquiry", url, "--engine", "native", "--json"])
            #expect(inquiry.stdout.contains("\"vendor\""), "\(inquiry.stdout)")

            // 256 KiB at LBA 64 with FUA, read back by the user and, independently, by libiscsi as root.
            let data = try pattern("in.bin", in: scratch, seed: 0xA11CE, count: 256 << 10)
            try await asUser(["target", "write", url, "--engine", "native", "--lba", "64", "--in", data.path, "--fua"])
            let back = "\(scratch.path)/back.bin"
            try await asUser(["target", "read", url, "--engine", "native", "--lba", "64", "--blocks", "\((256 << 10) / 512)", "--out", back])
            #expect(try Data(contentsOf: URL(fileURLWithPath: back)) == data.bytes, "the user's read differs from its write")
            let check = "\(scratch.path)/check.bin"
            try await LibISCSIClient.copy(from: url, to: check, blockSize: 512, blocks: 64 + (256 << 10) / 512)
            #expect(try Data(contentsOf: URL(fileURLWithPath: check)).dropFirst(64 * 512) == data.bytes, "libiscsi reads other bytes than the user wrote")
        }
    }

    @Test func exportServeOfADatastoreDiskServesALibiscsiClientAsAnOrdinaryUser() async throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        try user.own(scratch.path)
        let image = "\(scratch.path)/ds.img"
        try await asUser(["datastore", "format", image, "--label", "ds", "--image-size", "128MiB"])
        try await asUser(["disk", "create", image, "vm1", "--size", "8MiB"])
        let port = try LoopbackPort.reserve()
        let serve = try await user.spawn(
            try vdiskctl(), ["export", "serve", image, "vm1", "--listen", "127.0.0.1:\(port)", "--iqn", Self.exportIQN],
            stdoutPath: "\(scratch.path)/serve.out", stderrPath: "\(scratch.path)/serve.err"
        )
        defer { serve.send(signal: SIGKILL) }
        // Bounded: 100 looks, 100 ms apart.
        for _ in 0..<100 where !LoopbackPort.isAccepting(port: port) && serve.isRunning {
            try await Task.sleep(for: .milliseconds(100))
        }
        try #require(LoopbackPort.isAccepting(port: port), "export serve never listened: \(serve.outputTail())")

        let exportURL = "iscsi://127.0.0.1:\(port)/\(Self.exportIQN)/0"
        let data = try pattern("in.bin", in: scratch, seed: 0xD15C, count: 1 << 20)
        try await LibISCSIClient.copy(from: data.path, to: exportURL, blockSize: 4096, blocks: (1 << 20) / 4096)
        let back = "\(scratch.path)/back.bin"
        try await LibISCSIClient.copy(from: exportURL, to: back, blockSize: 4096, blocks: (1 << 20) / 4096)
        #expect(try Data(contentsOf: URL(fileURLWithPath: back)) == data.bytes, "the bytes read back through the export differ")

        serve.send(signal: SIGTERM)
        let status = await serve.waitForExit(timeout: .seconds(20))
        #expect(status?.isSuccess == true, "export serve: \(String(describing: status)) \(serve.outputTail())")
        // The written bytes are in the datastore, read by the user with vdiskctl.
        let fromStore = "\(scratch.path)/store.bin"
        try await asUser(["disk", "read", image, "vm1", "--offset", "0", "--length", "\(1 << 20)", "--out", fromStore])
        #expect(try Data(contentsOf: URL(fileURLWithPath: fromStore)) == data.bytes)
        let errors = (try? String(contentsOfFile: "\(scratch.path)/serve.err", encoding: .utf8)) ?? ""
        #expect(!errors.contains("Permission denied"), "\(errors)")
    }

    /// On either engine for the daemon's target (`engine = "native"` or `"libiscsi"`).
    @Test(arguments: ["native", "libiscsi"])
    func vdiskdServesADiskAsAnOrdinaryUser(engine: String) async throws {
        try await PreparedLUN.with(iqn: Self.lunIQN, size: 128 << 20, diskSize: "8MiB") { lun in
            let port = try LoopbackPort.reserve()
            let daemon = try lun.startDaemon(exportPort: port, shutdownTimeout: 15, user: user) { text in
                text.replacingOccurrences(of: "lun = 1\n", with: "lun = 1\nengine = \"\(engine)\"\n")
            }
            defer { daemon.stop() }
            let ready = try #require(await daemon.notify.waitFor("READY=1", timeout: 60), "no READY=1: \(daemon.stderr)")
            #expect(ready.last?.contains("1 of 1 exports serving") == true, "\(ready) \(daemon.stderr)")

            let exportURL = "iscsi://127.0.0.1:\(port)/\(Self.exportIQN)/0"
            let data = try pattern("in.bin", in: lun.scratch, seed: 0xBEEF, count: 1 << 20)
            try await LibISCSIClient.copy(from: data.path, to: exportURL, blockSize: 4096, blocks: (1 << 20) / 4096)
            let back = "\(lun.scratch.path)/back.bin"
            try await LibISCSIClient.copy(from: exportURL, to: back, blockSize: 4096, blocks: (1 << 20) / 4096)
            #expect(try Data(contentsOf: URL(fileURLWithPath: back)) == data.bytes, "the bytes read back through vdiskd differ")

            // The user who runs the daemon reads its state through the control socket.
            let status = try await asUser(["status", "--socket", daemon.socketPath, "--json"])
            let json = try JSONDecoder().decode(JSONValue.self, from: Data(status.stdout.utf8))
            let services = json["services"]?.arrayValue ?? []
            let targets = try await asUser(["targets", "--socket", daemon.socketPath, "--json"])
            #expect(targets.stdout.contains("\"engine\" : \"\(engine)\""), "\(targets.stdout)")
            for name in ["target:lun1", "datastore:ds1", "disk:ds1/vm1", "export:vm1", "control-socket"] {
                #expect(services.contains { $0["name"] == .string(name) && $0["state"] == .string("running") }, "\(name) is not running: \(json)")
            }

            #expect(await daemon.terminate(timeout: .seconds(30)) == 0, "\(daemon.stderr)")
            // Nothing in the run needed a privilege: no refused call reached the log. libdispatch's
            // own "Failed to set thread priority" is the unit's LimitNICE= to answer, which needs
            // CAP_SYS_RESOURCE to grant here (docs/DAEMON.md, "systemd").
            let refusals = daemon.stderr.split(separator: "\n").filter { line in
                (line.contains("errno=13") || line.contains("Permission denied") || line.contains("not permitted"))
                    && !line.hasPrefix("Failed to set thread priority for worker thread")
            }
            #expect(refusals.isEmpty, "\(daemon.stderr)")
        }
    }
}
