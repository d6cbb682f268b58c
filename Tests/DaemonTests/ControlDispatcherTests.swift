// Every JSON-RPC error class and each method's answer, without a socket.

import Control
import Daemon
import Foundation
import Testing
import TestSupport

@Suite struct ControlDispatcherTests {
    private func answer(_ dispatcher: ControlDispatcher, _ line: String, peer: PeerCredentials = DispatcherFixture.root) async throws -> JSONValue {
        let text = try #require(await dispatcher.respond(to: .line(Array(line.utf8)), peer: peer))
        return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    @Test func malformedJSONIsAParseError() async throws {
        let (dispatcher, _) = try DispatcherFixture.make()
        let response = try await answer(dispatcher, "{\"jsonrpc\": \"2.0\", ")
        #expect(response["error"]?["code"] == .int(-32700))
        #expect(response["id"] == .null)
    }

    @Test func wrongShapesAreInvalidRequests() async throws {
        let (dispatcher, _) = try DispatcherFixture.make()
        #expect(try await answer(dispatcher, "[1,2]")["error"]?["code"] == .int(-32600))
        #expect(try await answer(dispatcher, "{\"jsonrpc\":\"1.0\",\"id\":7,\"method\":\"status\"}")["error"]?["code"] == .int(-32600))
        let noMethod = try await answer(dispatcher, "{\"jsonrpc\":\"2.0\",\"id\":\"x\"}")
        #expect(noMethod["error"]?["code"] == .int(-32600))
        #expect(noMethod["id"] == .string("x"))
        #expect(try await answer(dispatcher, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\"params\":3}")["error"]?["code"] == .int(-32600))
    }

    @Test func unknownMethodIsMethodNotFound() async throws {
        let (dispatcher, _) = try DispatcherFixture.make()
        let response = try await answer(dispatcher, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"disks.explode\"}")
        #expect(response["error"]?["code"] == .int(-32601))
        #expect(response["id"] == .int(3))
    }

    @Test func tooLargeHasItsOwnCode() async throws {
        let (dispatcher, _) = try DispatcherFixture.make()
        let text = try #require(await dispatcher.respond(to: .tooLarge, peer: DispatcherFixture.root))
        let response = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(response["error"]?["code"] == .int(JSONRPCError.requestTooLargeCode))
    }

    @Test func unprivilegedPeerMayReadButNotMutate() async throws {
        let (dispatcher, state) = try DispatcherFixture.make()
        let status = try await answer(dispatcher, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\"}", peer: DispatcherFixture.nobody)
        #expect(status["result"]?["version"] == .string(DaemonVersion.current))
        let refused = try await answer(dispatcher, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"log.setLevel\",\"params\":{\"level\":\"debug\"}}", peer: DispatcherFixture.nobody)
        #expect(refused["error"]?["code"] == .int(JSONRPCError.notPermittedCode))
        #expect(state.logLevel.current == .info)
    }

    @Test func controlGroupMemberMayMutate() async throws {
        // nogroup is gid 65534 on Debian; a peer whose primary group it is counts as a member.
        let (dispatcher, state) = try DispatcherFixture.make(controlGroup: "nogroup")
        let response = try await answer(dispatcher, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"log.setLevel\",\"params\":{\"level\":\"debug\"}}", peer: DispatcherFixture.nobody)
        #expect(response["result"]?["level"] == .string("debug"))
        #expect(state.logLevel.current == .debug)
    }

    @Test func setLevelChecksItsParams() async throws {
        let (dispatcher, state) = try DispatcherFixture.make()
        #expect(try await answer(dispatcher, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"log.setLevel\",\"params\":{\"level\":\"loud\"}}")["error"]?["code"] == .int(-32602))
        let ok = try await answer(dispatcher, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"log.setLevel\",\"params\":{\"level\":\"warning\"}}")
        #expect(ok["result"]?["previous"] == .string("info"))
        #expect(state.logLevel.current == .warning)
    }

    @Test func notificationGetsNoAnswer() async throws {
        let (dispatcher, _) = try DispatcherFixture.make()
        #expect(await dispatcher.respond(to: .line(Array("{\"jsonrpc\":\"2.0\",\"method\":\"status\"}".utf8)), peer: DispatcherFixture.root) == nil)
    }

    @Test func listsReportConfigAndHonestState() async throws {
        let (dispatcher, _) = try DispatcherFixture.make()
        let targets = try await answer(dispatcher, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"targets.list\"}")["result"]
        #expect(targets?.arrayValue?.count == 1)
        #expect(targets?.arrayValue?.first?["portal"] == .string("127.0.0.1:3260"))
        #expect(targets?.arrayValue?.first?["state"] == .string("not-started"))
        let datastores = try await answer(dispatcher, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"datastores.list\"}")["result"]
        #expect(datastores?.arrayValue?.first?["host_uuid"] == .string("4f0c2a3e-9b8d-4c61-a0e7-2d5b8f1c9e40"))
        let disks = try await answer(dispatcher, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"disks.list\"}")["result"]
        #expect(disks?.arrayValue?.first?["mode"] == .string("exclusive"))
        let exports = try await answer(dispatcher, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"exports.list\"}")["result"]
        #expect(exports?.arrayValue?.first?["listen"] == .array([.string("127.0.0.1:3261")]))
        let status = try await answer(dispatcher, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\"}")["result"]
        #expect(status?["config_path"] == .string("/etc/vdiskd/test.toml"))
        #expect(status?["services"]?.arrayValue?.first?["name"] == .string("control-socket"))
        #expect(status?["counts"]?["disks"] == .int(1))
    }

    @Test func reloadSaysWhatWouldChangeAndWhatIsNotLive() async throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        let path = try scratch.write("vdiskd.toml", ConfigFixtures.minimal)
        let (dispatcher, state) = try DispatcherFixture.make(config: ConfigLoader.load(path: path))
        let unchanged = try await answer(dispatcher, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"reload\"}")["result"]
        #expect(unchanged?["changes"] == .array([]))
        #expect(unchanged?["needs_restart"] == .bool(false))

        try scratch.write("vdiskd.toml", ConfigFixtures.minimal
            .replacingOccurrences(of: "log_level = \"info\"", with: "log_level = \"debug\"")
            .replacingOccurrences(of: "lun = 1", with: "lun = 2"))
        let changed = try await answer(dispatcher, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"reload\"}")["result"]
        let changes = try #require(changed?["changes"]?.arrayValue)
        #expect(changes.map { $0["section"] } == [.string("daemon.log_level"), .string("target")])
        #expect(changes.map { $0["applied"] } == [.bool(true), .bool(false)])
        #expect(changes[1]["detail"]?.stringValue?.contains("not implemented") == true)
        #expect(changed?["needs_restart"] == .bool(true))
        #expect(state.logLevel.current == .debug)
        #expect(state.config.targets.first?.lun == 1)

        try scratch.write("vdiskd.toml", "bogus = 1\n" + ConfigFixtures.minimal)
        let refused = try await answer(dispatcher, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"reload\"}")
        #expect(refused["error"]?["code"] == .int(JSONRPCError.operationFailedCode))
        #expect(refused["error"]?["data"]?.arrayValue?.first?.stringValue == "\(path):1: bogus: unknown key")
    }
}
