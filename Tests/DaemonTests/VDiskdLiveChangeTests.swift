// Changing a running vdiskd against a real tgt: disks created, opened, exported, grown,
// refused deletion while in use, closed and deleted through the control socket and vdiskctl;
// then SIGHUP applies a config that adds a disk and an export and removes one. Changes made
// through the control socket survive SIGHUP and a restart, until the file changes what they changed.

import Control
import Daemon
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(5))) struct VDiskdLiveChangeTests {
    static let lunIQN = "iqn.2026-11.org.vdiskd.test:live-lun"
    static let keptLunIQN = "iqn.2026-11.org.vdiskd.test:kept-lun"

    private var vdiskctl: String { "\(ProcessRunner.productsDirectory)/vdiskctl" }

    @Test func disksAndExportsChangeLiveAndReloadAppliesThem() async throws {
        try await PreparedLUN.with(iqn: Self.lunIQN, diskSize: "8MiB") { lun in
            let scratch = lun.scratch
            let firstPort = try LoopbackPort.reserve()
            let daemon = try lun.startDaemon(exportPort: firstPort)
            defer { daemon.stop() }
            try #require(await daemon.notify.waitFor("READY=1", timeout: 60) != nil, "no READY=1: \(daemon.stderr)")
            let socket = ["--socket", daemon.socketPath]
            let client = ControlClient(socketPath: daemon.socketPath)

            // A new disk, opened and exported on a second port, all while running.
            try await vdiskctl(["disks", "create", "ds1", "vm2", "--size", "8MiB"] + socket, expect: 0)
            try await vdiskctl(["disks", "open", "ds1", "vm2"] + socket, expect: 0)
            let secondPort = try LoopbackPort.reserve()
            let e2 = "iqn.2026-11.example.vdiskd:e2"
            try await vdiskctl(["exports", "add", "e2", "--iqn", e2, "--listen", "127.0.0.1:\(secondPort)", "--disk", "ds1/vm2"] + socket, expect: 0)
            let e2URL = "iscsi://127.0.0.1:\(secondPort)/\(e2)/0"
            #expect(try await LibISCSIClient.capacity(e2URL) == 8 << 20)

            // A read-only export of the same disk: reads work, a write is refused (DATA PROTECT).
            let readOnlyPort = try LoopbackPort.reserve()
            let ro = "iqn.2026-11.example.vdiskd:ro"
            try await vdiskctl(["exports", "add", "ro", "--iqn", ro, "--listen", "127.0.0.1:\(readOnlyPort)", "--disk", "ds1/vm2", "--read-only"] + socket, expect: 0)
            let roURL = "iscsi://127.0.0.1:\(readOnlyPort)/\(ro)/0"
            let patternPath = try scratch.write("pattern.bin", String(repeating: "vdiskd", count: 700))
            await #expect(throws: (any Error).self, "a write through a read-only export succeeded") {
                try await LibISCSIClient.copy(from: patternPath, to: roURL, blockSize: 512, blocks: 8)
            }
            try await LibISCSIClient.copy(from: roURL, to: "\(scratch.path)/ro.bin", blockSize: 512, blocks: 8)
            #expect(try Data(contentsOf: URL(fileURLWithPath: "\(scratch.path)/ro.bin")) == Data(count: 4096), "a fresh thin disk reads zeros")
            try await vdiskctl(["exports", "remove", "ro"] + socket, expect: 0)

            // In use: neither deleted nor closed under the export; unknown names are not found.
            let refused = try await vdiskctl(["disks", "delete", "ds1", "vm2"] + socket, expect: 77)
            #expect(refused.contains("export e2 presents it"), "\(refused)")
            let notClosed = try await callError(client, "disks.close", ["datastore": .string("ds1"), "name": .string("vm2")])
            #expect(notClosed.code == JSONRPCError.inUseCode)
            let unknown = try await callError(client, "disks.delete", ["datastore": .string("ds1"), "name": .string("nope")])
            #expect(unknown.code == JSONRPCError.notFoundCode, "\(unknown)")

            // Grown while exported: the initiator sees the new capacity.
            try await vdiskctl(["disks", "grow", "ds1", "vm2", "--size", "16MiB"] + socket, expect: 0)
            #expect(try await LibISCSIClient.capacity(e2URL) == 16 << 20)

            // Removed: the port closes; then the disk can be closed and deleted.
            try await vdiskctl(["exports", "remove", "e2"] + socket, expect: 0)
            #expect(!LoopbackPort.isAccepting(port: secondPort))
            let stillOpen = try await callError(client, "disks.delete", ["datastore": .string("ds1"), "name": .string("vm2")])
            #expect(stillOpen.message.contains("vdiskd has it open"), "\(stillOpen)")
            try await vdiskctl(["disks", "close", "ds1", "vm2"] + socket, expect: 0)
            try await vdiskctl(["disks", "delete", "ds1", "vm2"] + socket, expect: 0)
            let show = try await client.call("datastores.show", params: .object(["datastore": .string("ds1")]))
            #expect(show["disks"]?.arrayValue?.map { $0["name"] } == [.string("vm1")])
            #expect(show["hosts"]?.arrayValue?.count == 1)
            let showTable = try await vdiskctl(["datastores", "show", "ds1"] + socket, expect: 0)
            #expect(showTable.contains("SLOT") && showTable.contains("free ") && showTable.contains("vm1"), "\(showTable)")
            #expect(show["locks"]?.arrayValue?.contains { $0["object"]?.stringValue?.contains("vm1") == true } == true, "\(show["locks"] ?? .null)")

            // SIGHUP with a config that adds disk vm3 and export e3 and drops export vm1; the
            // target's LUN changes too, which needs a restart and is left as it runs.
            try await vdiskctl(["disks", "create", "ds1", "vm3", "--size", "4MiB"] + socket, expect: 0)
            let thirdPort = try LoopbackPort.reserve()
            let e3 = "iqn.2026-11.example.vdiskd:e3"
            var text = try String(contentsOfFile: daemon.configPath, encoding: .utf8)
            let exportStart = try #require(text.range(of: "[[export]]"))
            text = String(text[..<exportStart.lowerBound])
                .replacingOccurrences(of: "lun = 1", with: "lun = 2")
                + "[[disk]]\ndatastore = \"ds1\"\nname = \"vm3\"\n\n"
                + "[[export]]\nname = \"e3\"\niqn = \"\(e3)\"\nlisten = [\"127.0.0.1:\(thirdPort)\"]\ndisks = [\"ds1/vm3\"]\n"
            try scratch.write("vdiskd.toml", text)
            daemon.signal(SIGHUP)
            let reloaded = try #require(await daemon.notify.waitFor("STATUS=reloaded", timeout: 30), "no reload: \(daemon.stderr)")
            #expect(reloaded.last?.contains("needs a restart for: target") == true, "\(reloaded)")
            #expect(try await LibISCSIClient.capacity("iscsi://127.0.0.1:\(thirdPort)/\(e3)/0") == 4 << 20)
            #expect(!LoopbackPort.isAccepting(port: firstPort))
            let exports = try await client.call("exports.list")
            #expect(exports.arrayValue?.map { $0["name"] } == [.string("e3")])
            #expect(exports.arrayValue?.first?["state"] == .string("running"))
            let targets = try await client.call("targets.list")
            #expect(targets.arrayValue?.first?["lun"] == .int(1), "the target keeps running as it was")
            // Reloading the same file again changes nothing more, except what still needs a restart.
            let again = try await client.call("reload")
            #expect(again["changes"]?.arrayValue?.map { $0["section"] } == [.string("target")], "\(again)")
            let table = try await vdiskctl(["reload"] + socket, expect: 0)
            #expect(table.contains("target") && table.contains("restart vdiskd"), "\(table)")

            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit(timeout: .seconds(30)) == 0, "\(daemon.stderr)")
        }
    }

    @Test func controlSocketChangesSurviveSIGHUPAndARestart() async throws {
        try await PreparedLUN.with(iqn: Self.keptLunIQN, diskSize: "8MiB") { lun in
            let firstPort = try LoopbackPort.reserve(), secondPort = try LoopbackPort.reserve()
            let e2 = "iqn.2026-11.example.vdiskd:e2"
            let e2URL = "iscsi://127.0.0.1:\(secondPort)/\(e2)/0"
            let recordPath = "\(lun.scratch.path)/state/\(LiveChangeRecord.fileName)"
            do {
                let daemon = try lun.startDaemon(exportPort: firstPort)
                defer { daemon.stop() }
                try #require(await daemon.notify.waitFor("READY=1", timeout: 60) != nil, "no READY=1: \(daemon.stderr)")
                let socket = ["--socket", daemon.socketPath]
                // Through the control socket: vm2 made, opened, grown and exported as e2; the file's export vm1 removed.
                try await vdiskctl(["disks", "create", "ds1", "vm2", "--size", "8MiB"] + socket, expect: 0)
                try await vdiskctl(["disks", "open", "ds1", "vm2"] + socket, expect: 0)
                try await vdiskctl(["disks", "grow", "ds1", "vm2", "--size", "16MiB"] + socket, expect: 0)
                try await vdiskctl(["exports", "add", "e2", "--iqn", e2, "--listen", "127.0.0.1:\(secondPort)", "--disk", "ds1/vm2"] + socket, expect: 0)
                try await vdiskctl(["exports", "remove", "vm1"] + socket, expect: 0)
                #expect(FileManager.default.fileExists(atPath: recordPath))

                // SIGHUP re-reads the unchanged file: the live changes stay.
                daemon.signal(SIGHUP)
                try #require(await daemon.notify.waitFor("STATUS=reloaded", timeout: 30) != nil, "no reload: \(daemon.stderr)")
                #expect(try await exportNames(daemon.socketPath) == ["e2"])
                #expect(try await LibISCSIClient.capacity(e2URL) == 16 << 20)
                #expect(!LoopbackPort.isAccepting(port: firstPort))
                #expect(await daemon.terminate() == 0, "\(daemon.stderr)")
            }

            // A new process from the same file and state directory runs them again.
            let daemon = try lun.startDaemon(exportPort: firstPort)
            defer { daemon.stop() }
            let ready = try #require(await daemon.notify.waitFor("READY=1", timeout: 60), "no READY=1: \(daemon.stderr)")
            #expect(ready.last?.contains("1 of 1 exports serving") == true, "\(ready)")
            #expect(try await exportNames(daemon.socketPath) == ["e2"])
            #expect(try await LibISCSIClient.capacity(e2URL) == 16 << 20)
            #expect(!LoopbackPort.isAccepting(port: firstPort))
            let disks = try await ControlClient(socketPath: daemon.socketPath).call("disks.list")
            #expect(disks.arrayValue?.compactMap { $0["name"]?.stringValue } == ["vm1", "vm2"], "\(disks)")

            // Once the file changes the export the live change removed, the file wins for it.
            try lun.scratch.write("vdiskd.toml", try String(contentsOfFile: daemon.configPath, encoding: .utf8) + "\nread_only = true\n")
            let reload = try await vdiskctl(["reload", "--socket", daemon.socketPath], expect: 0)
            #expect(reload.contains("export vm1"), "\(reload)")
            #expect(try await exportNames(daemon.socketPath) == ["e2", "vm1"])
            #expect(LoopbackPort.isAccepting(port: firstPort))
            #expect(await daemon.terminate() == 0, "\(daemon.stderr)")
        }
    }

    private func exportNames(_ socketPath: String) async throws -> [String] {
        let exports = try await ControlClient(socketPath: socketPath).call("exports.list")
        return exports.arrayValue?.compactMap { $0["name"]?.stringValue }.sorted() ?? []
    }

    /// Runs vdiskctl, expects `status`, returns stdout and stderr together.
    @discardableResult
    private func vdiskctl(_ arguments: [String], expect status: Int32) async throws -> String {
        let output = try await ProcessRunner.run(vdiskctl, arguments)
        #expect(output.status == status, "vdiskctl \(arguments.joined(separator: " ")): \(output.stdout) \(output.stderr)")
        return output.stdout + output.stderr
    }

    /// The JSON-RPC error a call must fail with.
    private func callError(_ client: ControlClient, _ method: String, _ params: [String: JSONValue]) async throws -> JSONRPCError {
        do {
            let result = try await client.call(method, params: .object(params))
            Issue.record("\(method) succeeded: \(result)")
            return JSONRPCError(code: 0, message: "")
        } catch {
            guard case .daemonError(let rpc) = error.code else { throw error }
            return rpc
        }
    }
}
