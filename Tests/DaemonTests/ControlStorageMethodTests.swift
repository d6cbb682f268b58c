// The disk and export methods' refusals, without a socket or a target: each names what was
// wrong with a JSON-RPC error a client can tell apart.

import Control
import Daemon
import Foundation
import ISCSIAddress
import Testing

@Suite struct ControlStorageMethodTests {
    private func call(_ dispatcher: ControlDispatcher, _ method: String, _ params: JSONValue, peer: PeerCredentials = DispatcherFixture.root) async -> JSONRPCResponse {
        await dispatcher.handle(JSONRPCRequest(id: .int(1), method: method, params: params), peer: peer)
    }

    @Test func everyMutatingMethodIsRefusedToAnUnprivilegedPeer() async throws {
        let (dispatcher, _) = try DispatcherFixture.make()
        for method in ["disks.create", "disks.delete", "disks.grow", "disks.open", "disks.close", "exports.add", "exports.remove"] {
            let response = await call(dispatcher, method, .object([:]), peer: DispatcherFixture.nobody)
            #expect(response.error?.code == JSONRPCError.notPermittedCode, "\(method)")
        }
        // A read method is open to the same peer: the datastore is simply not mounted here.
        let show = await call(dispatcher, "datastores.show", .object(["datastore": .string("ds1")]), peer: DispatcherFixture.nobody)
        #expect(show.error?.code == JSONRPCError.notFoundCode)
        #expect(show.error?.message.contains("datastore ds1 is not mounted") == true)
    }

    @Test func badParamsAreNamed() async throws {
        let (dispatcher, _) = try DispatcherFixture.make()
        let noSize = await call(dispatcher, "disks.create", .object(["datastore": .string("ds1"), "name": .string("vm2")]))
        #expect(noSize.error?.code == JSONRPCError.invalidParamsCode)
        #expect(noSize.error?.message.contains("size_bytes") == true)
        let badMode = await call(dispatcher, "disks.open", .object(["datastore": .string("ds1"), "name": .string("vm1"), "mode": .string("rw")]))
        #expect(badMode.error?.message.contains("\"rw\"") == true)
        let noName = await call(dispatcher, "disks.delete", .object(["datastore": .string("ds1")]))
        #expect(noName.error?.code == JSONRPCError.invalidParamsCode)
        let badListen = await call(dispatcher, "exports.add", .object([
            "name": .string("e2"), "iqn": .string("iqn.2026-11.example:e2"), "listen": .array([.string("nowhere")]), "disks": .array([.string("ds1/vm1")]),
        ]))
        #expect(badListen.error?.message == "invalid params: listen \"nowhere\" is not host:port")
    }

    @Test func unknownPartsAreNotFoundAndTakenNamesInUse() async throws {
        let (dispatcher, _) = try DispatcherFixture.make()
        let unknownStore = await call(dispatcher, "disks.delete", .object(["datastore": .string("nope"), "name": .string("vm1")]))
        #expect(unknownStore.error?.code == JSONRPCError.notFoundCode)
        #expect(unknownStore.error?.message == "not found: no datastore nope in the config")
        let unknownExport = await call(dispatcher, "exports.remove", .object(["name": .string("nope")]))
        #expect(unknownExport.error?.code == JSONRPCError.notFoundCode)
        let sameName = await call(dispatcher, "exports.add", .object([
            "name": .string("vm1"), "iqn": .string("iqn.2026-11.example:x"), "listen": .array([.string("127.0.0.1:3999")]), "disks": .array([.string("ds1/vm1")]),
        ]))
        #expect(sameName.error?.code == JSONRPCError.inUseCode)
        let samePort = await call(dispatcher, "exports.add", .object([
            "name": .string("e2"), "iqn": .string("iqn.2026-11.example:x"), "listen": .array([.string("127.0.0.1:3261")]), "disks": .array([.string("ds1/vm1")]),
        ]))
        #expect(samePort.error?.message == "in use: export vm1 already listens on 127.0.0.1:3261")
        // Export vm1 writes ds1/vm1: a second writable unit over the same blocks would not share its locks.
        let sameDisk = await call(dispatcher, "exports.add", .object([
            "name": .string("e2"), "iqn": .string("iqn.2026-11.example:x"), "listen": .array([.string("127.0.0.1:3999")]), "disks": .array([.string("ds1/vm1")]),
        ]))
        #expect(sameDisk.error?.code == JSONRPCError.inUseCode)
        #expect(sameDisk.error?.message.hasPrefix("in use: disk ds1/vm1 is already presented writable by export vm1") == true)
        let twice = await call(dispatcher, "exports.add", .object([
            "name": .string("e2"), "iqn": .string("iqn.2026-11.example:x"), "listen": .array([.string("127.0.0.1:3999")]), "disks": .array([.string("ds1/vm2"), .string("ds1/vm2")]),
        ]))
        #expect(twice.error?.message == "in use: disk ds1/vm2 is listed twice; each disk is one LUN of an export")
        // The disk is not open (no target here): the export cannot start.
        let closedDisk = await call(dispatcher, "exports.add", .object([
            "name": .string("e2"), "iqn": .string("iqn.2026-11.example:x"), "listen": .array([.string("127.0.0.1:3999")]), "disks": .array([.string("ds1/vm2")]),
        ]))
        #expect(closedDisk.error?.code == JSONRPCError.notFoundCode)
        #expect(closedDisk.error?.message.contains("disk ds1/vm2 is not open") == true)
    }
}

/// The pure part of a reload: which disks and exports stop, close, open and start, in what order.
@Suite struct ReloadPlanTests {
    @Test func changedEntriesAreStoppedAndStartedAroundTheirDisks() throws {
        let running = try ConfigFixtures.parse(ConfigFixtures.minimal)
        var proposed = running
        proposed.disks[0].mode = .sharedReadOnly
        proposed.disks.append(DiskSettings(datastore: "ds1", name: "vm2"))
        proposed.exports[0].readOnly = true
        proposed.exports.append(ExportSettings(name: "e2", iqn: "iqn.2026-11.example:e2", listen: [ISCSIEndpoint(host: "127.0.0.1", port: 3262)], disks: ["ds1/vm2"]))
        let plan = ReloadPlan(running: running, proposed: proposed)
        #expect(plan.changes.map(\.section) == ["disk ds1/vm1", "disk ds1/vm2", "export vm1", "export e2"])
        #expect(plan.changes.map(\.detail) == ["changed", "added", "changed", "added"])
        #expect(plan.needsRestart, "nothing is applied until the reloader applies it")

        let removed = ReloadPlan(running: proposed, proposed: running)
        #expect(removed.changes.map(\.section) == ["disk ds1/vm2", "disk ds1/vm1", "export e2", "export vm1"])
        #expect(removed.changes.map(\.detail) == ["removed", "changed", "removed", "changed"])
    }
}
