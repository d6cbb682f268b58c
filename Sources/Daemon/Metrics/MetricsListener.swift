// The Prometheus listener: a loopback HTTP/1.1 server for GET /metrics, run only when configured.

import Export
import ISCSIAddress
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// Serves `metrics.exposition()` on `[daemon] metrics_listen` until graceful shutdown. Each
/// connection is bounded: a request over `MetricsRequestLimiter.maximumRequestBytes` gets 413,
/// malformed HTTP gets 400 (NIO's error handler), and a connection idle for `idleTimeout` is closed.
struct MetricsListener: Service {
    static let idleTimeout: TimeAmount = .seconds(30)
    /// Its name in `status`.
    static let serviceName = "metrics"

    let endpoint: ISCSIEndpoint
    let metrics: DaemonMetrics
    let state: DaemonState
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    /// Called once the port is bound, or binding failed (READY waits for it either way).
    let onListening: @Sendable () -> Void

    func run() async throws {
        let render: @Sendable () -> String = { [state] in state.metricsExposition() }
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: eventLoopGroup)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                // Out of descriptors, accept is retried after a second instead of at once.
                .serverChannelInitializer { [logger] channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(AcceptPauseHandler(logger: logger))
                    }
                }
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let budget = MetricsRequestBudget()
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHandler(MetricsRequestLimiter(budget: budget))
                        try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
                        try pipeline.addHandler(IdleStateHandler(readTimeout: Self.idleTimeout))
                        try pipeline.addHandler(MetricsHTTPHandler(budget: budget, render: render))
                    }
                }
                .bind(host: endpoint.host, port: endpoint.port)
                .get()
        } catch {
            // The port was free at start-up; losing it since is reported, and the daemon goes on.
            logger.error("cannot serve metrics", metadata: ["vdiskd.listen": "\(endpoint)", "vdiskd.error": "\(error)"])
            state.setService(Self.serviceName, .failed("cannot listen on \(endpoint): \(error)"))
            onListening()
            try? await gracefulShutdown()
            return
        }
        state.setService(Self.serviceName, .running)
        onListening()
        logger.info("serving metrics", metadata: ["vdiskd.listen": "\(endpoint)"])
        try? await gracefulShutdown()
        state.setService(Self.serviceName, .stopping)
        try? await channel.close()
        state.setService(Self.serviceName, .stopped)
    }
}
