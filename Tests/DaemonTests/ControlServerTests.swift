// The control socket for real: bad requests answered, the daemon unaffected, peers told apart.

import Control
import Daemon
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import Testing
import TestSupport

@Suite struct ControlServerTests {
    /// Runs a ControlServer on a socket in a scratch directory for the length of `body`.
    /// With a `config` file, the dispatcher runs that config (and reloads from it).
    private func withServer(
        socketGroup: String? = nil, controlGroup: String? = nil, config: String? = nil,
        _ body: @escaping @Sendable (String) async throws -> Void
    ) async throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        chmod(scratch.path, 0o755)
        let socketPath = "\(scratch.path)/control.sock"
        let (dispatcher, state) = try DispatcherFixture.make(config: try config.map { try ConfigLoader.load(path: $0) }, controlGroup: controlGroup)
        let ready = AsyncStream<Void>.makeStream()
        let server = ControlServer(
            path: socketPath,
            socketGroup: socketGroup,
            dispatcher: dispatcher,
            state: state,
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: Logger(label: "test"),
            onListening: { ready.continuation.yield() }
        )
        let group = ServiceGroup(configuration: .init(services: [server], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                defer { ready.continuation.finish() }
                try await group.run()
            }
            var iterator = ready.stream.makeAsyncIterator()
            await iterator.next()
            let outcome: Result<Void, any Error>
            do {
                try await body(socketPath)
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            try outcome.get()
        }
        #expect(!FileManager.default.fileExists(atPath: socketPath))
        _ = scratch
    }

    @Test func socketHasMode0660() async throws {
        try await withServer { path in
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? Int) == 0o660)
        }
    }

    @Test func badRequestsThenGoodOnSameAndNewConnection() async throws {
        try await withServer { path in
            let client = try LineSocketClient(path: path)
            try client.send("this is not json\n")
            #expect(try await client.readJSON()["error"].flatMap { ($0 as? [String: Any])?["code"] as? Int } == -32700)
            try client.send("{\"jsonrpc\":\"2.0\",\"id\":1}\n")
            #expect(try await client.readJSON()["error"].flatMap { ($0 as? [String: Any])?["code"] as? Int } == -32600)
            try client.send("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\"}\n")
            #expect(try await client.readJSON()["error"].flatMap { ($0 as? [String: Any])?["code"] as? Int } == -32601)
            // Over 1 MiB in one line: refused with its own code, then the connection still works.
            try client.send([UInt8](repeating: UInt8(ascii: "x"), count: ControlLineDecoder.maximumLineLength + 4096) + [UInt8(ascii: "\n")])
            #expect(try await client.readJSON()["error"].flatMap { ($0 as? [String: Any])?["code"] as? Int } == JSONRPCError.requestTooLargeCode)
            try client.send("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"status\"}\n")
            let good = try await client.readJSON()
            #expect(good["id"] as? Int == 3)
            #expect((good["result"] as? [String: Any])?["version"] as? String == DaemonVersion.current)

            let fresh = try LineSocketClient(path: path)
            try fresh.send("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"targets.list\"}\n")
            #expect((try await fresh.readJSON()["result"] as? [Any])?.count == 1)
        }
    }

    @Test func clientThatHangsUpMidRequestLeavesOthersServed() async throws {
        try await withServer { path in
            do {
                let quitter = try LineSocketClient(path: path)
                try quitter.send("{\"jsonrpc\":\"2.0\",\"id\":1,\"meth")
            }
            let result = try await ControlClient(socketPath: path, timeout: .seconds(5)).call("status")
            #expect(result["version"] == .string(DaemonVersion.current))
        }
    }

    @Test func unprivilegedPeerIsRefusedMutationOverTheSocket() async throws {
        // A real second user: python3 run as nobody through setpriv; SO_PEERCRED sees uid 65534.
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
            Issue.record("this test needs root and setpriv to act as another user")
            return
        }
        try await withServer(socketGroup: "nogroup") { path in
            let script = """
                import socket, sys
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(sys.argv[1])
                s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"status"}\\n{"jsonrpc":"2.0","id":2,"method":"log.setLevel","params":{"level":"trace"}}\\n')
                data = b''
                while data.count(b'\\n') < 2:
                    chunk = s.recv(65536)
                    if not chunk: break
                    data += chunk
                sys.stdout.write(data.decode())
                """
            let output = try await ProcessRunner.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/env", "python3", "-c", script, path])
            #expect(output.status == 0)
            let lines = output.stdout.split(separator: "\n").map { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
            #expect(lines.count == 2)
            #expect(lines.first??["result"]?["version"] == .string(DaemonVersion.current))
            #expect(lines.last??["error"]?["code"] == .int(JSONRPCError.notPermittedCode))
            let check = try await ControlClient(socketPath: path, timeout: .seconds(30)).call("status")
            #expect(check["log_level"] == .string("info"))
        }
    }

    @Test func controlGroupRulesHoldForVdiskctlRunAsOrdinaryUsers() async throws {
        // Readers are the socket's group (nogroup, 65534), admins the control group (users, 100).
        let scratch = TemporaryDirectory("vdiskd-test")
        chmod(scratch.path, 0o755)
        let configPath = try scratch.write("vdiskd.toml", ConfigFixtures.minimal)
        let vdiskctl = try UnprivilegedUser.executable("vdiskctl", overriddenBy: "VDISKCTL")
        let admin = UnprivilegedUser(uid: 64_202, gid: 100, groups: [65534])
        let reader = UnprivilegedUser(uid: 64_203, gid: 65534)
        let outsider = UnprivilegedUser.standard
        try await withServer(socketGroup: "nogroup", controlGroup: "users", config: configPath) { path in
            // The admin changes the file and reloads: applied, and shown to everyone in the group.
            try String(contentsOfFile: configPath, encoding: .utf8).replacingOccurrences(of: "log_level = \"info\"", with: "log_level = \"debug\"")
                .write(toFile: configPath, atomically: true, encoding: .utf8)
            let reload = try await admin.run(vdiskctl, ["reload", "--socket", path, "--timeout", "30"])
            #expect(reload.succeeded, "\(reload)")
            #expect(reload.stdout.contains("log_level"), "\(reload.stdout)")
            let status = try await reader.run(vdiskctl, ["status", "--socket", path, "--json", "--timeout", "30"])
            #expect(status.succeeded, "\(status)")
            #expect(try JSONDecoder().decode(JSONValue.self, from: Data(status.stdout.utf8))["log_level"] == .string("debug"), "\(status.stdout)")

            // A member of the socket's group outside the control group reads but may not change.
            let refused = try await reader.run(vdiskctl, ["reload", "--socket", path, "--timeout", "30"])
            #expect(refused.status == .exited(77), "\(refused)")
            #expect(refused.stderr.contains("not permitted"), "\(refused.stderr)")
            let refusedCreate = try await reader.run(vdiskctl, ["disks", "create", "ds1", "vm9", "--size", "1M", "--socket", path])
            #expect(refusedCreate.status == .exited(77) && refusedCreate.stderr.contains("not permitted"), "\(refusedCreate)")

            // Outside both groups the socket's mode keeps the user out altogether.
            let outside = try await outsider.run(vdiskctl, ["status", "--socket", path])
            #expect(outside.status == .exited(77), "\(outside)")
            #expect(outside.stderr.contains("permission denied on \(path)"), "\(outside.stderr)")
        }
    }

    @Test func secondServerOnALiveSocketIsRefused() async throws {
        try await withServer { path in
            #expect(throws: ControlServer.StartError.self) { try ControlServer.removeStaleSocket(path) }
        }
    }
}
