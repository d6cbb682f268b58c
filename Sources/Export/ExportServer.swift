// The export's TCP front: listens on every configured portal and gives each accepted
// connection its own handler; shuts down by draining commands, then closing sessions.

import ISCSI
import ISCSIAddress
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// An iSCSI target server for a set of `ExportTarget`s.
public final class ExportServer: Sendable {
    public let configuration: ExportConfiguration
    private let context: ExportServerContext
    private let group: any EventLoopGroup
    private let connectionGroup: any EventLoopGroup
    private let listeners: NIOLockedValueBoxWrapper

    /// The listening channels, kept to close them at shutdown.
    private final class NIOLockedValueBoxWrapper: Sendable {
        let channels = NIOLockedValueBox<[any Channel]>([])
    }

    /// Listens on `group`. Accepted connections run on `connectionGroup` (default: `group`):
    /// giving it the event loop of the iSCSI session under the exported disks keeps a
    /// command on one thread from the client's PDU to the LUN's answer and back, since each
    /// connection also runs its commands on its own loop.
    public init(
        targets: [ExportTarget], configuration: ExportConfiguration, group: any EventLoopGroup,
        connectionGroup: (any EventLoopGroup)? = nil, logger: Logger
    ) {
        self.configuration = configuration
        self.context = ExportServerContext(targets: targets, configuration: configuration, logger: logger)
        self.group = group
        self.connectionGroup = connectionGroup ?? group
        self.listeners = NIOLockedValueBoxWrapper()
    }

    /// Binds every portal; returns the addresses actually bound (port 0 gets a free port).
    @discardableResult
    public func start() async throws -> [ISCSIEndpoint] {
        let context = self.context
        // Weak or reused CHAP secrets are refused before anything listens.
        for target in context.targets.values.sorted(by: { $0.name < $1.name }) {
            try target.access.validate(target: target.name)
        }
        var bound: [ISCSIEndpoint] = []
        for portal in configuration.portals {
            let channel = try await ServerBootstrap(group: group, childGroup: connectionGroup)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                // Out of descriptors, accept fails at once and would be retried at once:
                // the pause takes the socket off epoll for a second instead of spinning.
                .serverChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(AcceptPauseHandler(logger: context.logger))
                    }
                }
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)  // IPPROTO_TCP, not SOL_SOCKET (SO_DEBUG needs a privilege)
                .childChannelOption(.maxMessagesPerRead, value: 16)
                .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 65536, maximum: 1 << 20))
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ExportConnectionHandler(server: context, logger: context.logger))
                    }
                }
                .bind(host: portal.host, port: portal.port)
                .get()
            listeners.channels.withLockedValue { $0.append(channel) }
            bound.append(ISCSIEndpoint(host: portal.host, port: channel.localAddress?.port ?? portal.port))
        }
        context.setPortals(bound)
        return bound
    }

    /// Write data buffered across the export's connections, and the writes it refused or timed out.
    public var writeBudget: ExportWriteBudget { context.writeBudget }

    /// Sessions logged in right now.
    public var sessionCount: Int { context.registry.count }

    /// Connections turned away by the admission limits since the server started.
    public var refusals: ExportRefusals { context.admission.refusals }

    /// Connections accepted and not logged in yet.
    public var pendingLogins: Int { context.admission.pendingLogins }

    /// Every session logged in right now, discovery sessions included.
    public var sessions: [ExportSessionInfo] { context.registry.sessions }

    /// Stops listening, waits up to the drain timeout for commands in flight (new ones
    /// are answered BUSY meanwhile), then closes every session. The logical units stay open: they are the caller's.
    public func shutdown() async {
        let channels = listeners.channels.withLockedValue { channels in
            defer { channels.removeAll() }
            return channels
        }
        for channel in channels { try? await channel.close() }
        context.startDraining()
        let deadline = ContinuousClock.now + .nanoseconds(configuration.drainTimeout.nanoseconds)
        // Bounded by the drain timeout.
        while context.commandsInFlight.withLockedValue({ $0 }) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        context.registry.closeAll(reason: "the export is shutting down")
        // Give the closes a moment to run on their event loops, bounded.
        for _ in 0..<50 where context.registry.count > 0 {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
