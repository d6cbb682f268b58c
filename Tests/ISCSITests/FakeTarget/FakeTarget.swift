// A scripted iSCSI target on 127.0.0.1 for the faults no real target can be made to show
// (corrupt digests, malformed PDUs, stalls, async events, rejects); see FakeTargetConnection.

import ISCSI
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A listening fake target. Tests use it through `run`, which always stops it.
///
/// Every connection logs in by itself (as `login` says); in the full feature
/// phase each PDU the initiator sends goes to `script`, which answers through
/// the `FakeTargetConnection` it is given. Real targets (tgtd, istgt) cover
/// everything a target does right; this covers only what it does wrong.
final class FakeTarget: Sendable {
    /// Called on the connection's event loop for every PDU after login.
    typealias Script = @Sendable (ISCSIPDU, FakeTargetConnection) -> Void

    static let targetName = "iqn.2026-11.org.vdiskd.test:fake"

    let portal: TargetPortal
    let log: FakeTargetLog
    private let server: any Channel
    private let connections: NIOLockedValueBox<[(channel: any Channel, handler: NIOLoopBound<FakeTargetConnection>)]>

    private init(
        portal: TargetPortal,
        log: FakeTargetLog,
        server: any Channel,
        connections: NIOLockedValueBox<[(channel: any Channel, handler: NIOLoopBound<FakeTargetConnection>)]>
    ) {
        self.portal = portal
        self.log = log
        self.server = server
        self.connections = connections
    }

    /// Starts a fake target, runs `body` with it, and stops it whether `body` returns or throws.
    static func run<T>(
        login: FakeTargetLogin = .accept,
        window: Int = 32,
        script: @escaping Script = { pdu, connection in connection.respondNormally(to: pdu) },
        _ body: (FakeTarget) async throws -> T
    ) async throws -> T {
        let target = try await start(login: login, window: window, script: script)
        do {
            let result = try await body(target)
            await target.stop()
            return result
        } catch {
            await target.stop()
            throw error
        }
    }

    private static func start(login: FakeTargetLogin, window: Int, script: @escaping Script) async throws -> FakeTarget {
        let log = FakeTargetLog()
        let connections = NIOLockedValueBox<[(channel: any Channel, handler: NIOLoopBound<FakeTargetConnection>)]>([])
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = FakeTargetConnection(login: login, window: window, log: log, script: script)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    let bound = NIOLoopBound(handler, eventLoop: channel.eventLoop)
                    connections.withLockedValue { $0.append((channel, bound)) }
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        guard let port = server.localAddress?.port else {
            preconditionFailure("a socket bound to port 0 has a port")
        }
        return FakeTarget(portal: TargetPortal(host: "127.0.0.1", port: port), log: log, server: server, connections: connections)
    }

    /// Closes the listener and every connection.
    func stop() async {
        try? await server.close()
        for (channel, _) in connections.withLockedValue({ $0 }) {
            try? await channel.close()
        }
    }

    /// Runs `body` on the newest connection's event loop: how a test makes the target
    /// speak without being asked (NOP-In, Async Message, a reopened window).
    @discardableResult
    func perform<T: Sendable>(_ body: @escaping @Sendable (FakeTargetConnection) -> T) async throws -> T {
        guard let (channel, handler) = connections.withLockedValue({ $0.last }) else {
            throw BoundedWait.Timeout(what: "a connection to the fake target", after: .zero)
        }
        return try await channel.eventLoop.submit { body(handler.value) }.get()
    }

    /// A session configuration for this target with timers short enough for tests.
    func configuration(
        digests: Bool = false,
        loginTimeout: TimeAmount = .seconds(2),
        keepaliveInterval: TimeAmount? = nil,
        keepaliveTimeout: TimeAmount = .seconds(1)
    ) -> ISCSISessionConfiguration {
        var proposal = OperationalProposal()
        if digests {
            proposal.headerDigests = [.crc32c]
            proposal.dataDigests = [.crc32c]
        }
        return ISCSISessionConfiguration(
            portal: portal,
            targetName: Self.targetName,
            proposal: proposal,
            connectTimeout: .seconds(2),
            loginTimeout: loginTimeout,
            keepaliveInterval: keepaliveInterval,
            keepaliveTimeout: keepaliveTimeout
        )
    }
}
