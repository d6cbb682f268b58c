// The public face of a logged-in iSCSI session: run SCSI commands, task management, text requests, logout.

import ISCSIAddress
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// One logged-in iSCSI session over one TCP connection.
///
/// Safe to use from any number of Swift tasks at once: commands queue up in
/// the CmdSN window and complete independently. Cancelling the Swift task
/// that awaits `execute` sends ABORT TASK for that command.
public final class ISCSISession: Sendable {
    public let configuration: ISCSISessionConfiguration
    /// The portal the session ended up on (after any redirection).
    public let portal: TargetPortal
    public let negotiated: NegotiatedParameters
    public let targetPortalGroupTag: UInt16?
    /// Events the target sent outside command responses.
    public let events: AsyncStream<ISCSISessionEvent>
    /// The connection's event loop as a task executor; tasks that prefer it skip the
    /// thread hops between the caller and the connection (see `EventLoopTaskExecutor`).
    public let taskExecutor: EventLoopTaskExecutor

    private let channel: any Channel
    private let handler: NIOLoopBound<ISCSIConnectionHandler>
    private let submissions: SubmissionQueue
    private let logger: Logger

    private init(
        configuration: ISCSISessionConfiguration,
        portal: TargetPortal,
        result: LoginResult,
        channel: any Channel,
        handler: NIOLoopBound<ISCSIConnectionHandler>,
        submissions: SubmissionQueue,
        events: AsyncStream<ISCSISessionEvent>,
        logger: Logger
    ) {
        self.configuration = configuration
        self.portal = portal
        self.negotiated = result.parameters
        self.targetPortalGroupTag = result.targetPortalGroupTag
        self.channel = channel
        self.handler = handler
        self.submissions = submissions
        self.events = events
        self.logger = logger
        self.taskExecutor = EventLoopTaskExecutor.of(channel.eventLoop)
    }

    /// Connects, logs in (following redirections) and returns the session in its full feature phase.
    ///
    /// A failed CHAP login is never retried with a weaker algorithm: the CHAP_A offer is
    /// the whole list the configuration allows, and the target picks from it (RFC 7143
    /// §12.1.3), so the only way a target "refuses an algorithm" is by choosing another
    /// from the offer or answering Reject. Retrying after a refused response would let a
    /// rogue target that fails the strong answer collect a weak one (MD5) to attack offline.
    public static func connect(
        _ configuration: ISCSISessionConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "vdisk.iscsi")
    ) async throws -> ISCSISession {
        try await connectFollowingRedirects(configuration, eventLoopGroup: eventLoopGroup, logger: logger)
    }

    private static func connectFollowingRedirects(
        _ configuration: ISCSISessionConfiguration,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger
    ) async throws -> ISCSISession {
        var portal = configuration.portal
        var redirects = 0
        while true {
            let attempt = try await connectOnce(configuration, portal: portal, eventLoopGroup: eventLoopGroup, logger: logger)
            switch attempt {
            case .session(let session):
                return session
            case .redirected(let next, let permanent):
                redirects += 1
                guard redirects <= configuration.maximumRedirects else {
                    throw ISCSIError(
                        .redirected,
                        scope: .session,
                        "login to \(configuration.targetName ?? "discovery") was redirected more than \(configuration.maximumRedirects) times (last to \(next))"
                    )
                }
                logger.info(
                    "login redirected",
                    metadata: ["iscsi.from": "\(portal)", "iscsi.to": "\(next)", "iscsi.permanent": "\(permanent)"]
                )
                portal = next
            }
        }
    }

    private enum Attempt {
        case session(ISCSISession)
        case redirected(TargetPortal, permanent: Bool)
    }

    private static func connectOnce(
        _ configuration: ISCSISessionConfiguration,
        portal: TargetPortal,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger
    ) async throws -> Attempt {
        // A bad source fails here, before any promise or socket exists.
        let source = configuration.source
        let bindAddress = try source?.bindAddress(reaching: portal)
        try source?.check(reaching: portal)
        let eventLoop = eventLoopGroup.next()
        let submissions = SubmissionQueue()
        let loginPromise = eventLoop.makePromise(of: ISCSIConnectionHandler.LoginOutcome.self)
        let handlerBox = NIOLockedValueBox<NIOLoopBound<ISCSIConnectionHandler>?>(nil)
        let (events, continuation) = AsyncStream.makeStream(of: ISCSISessionEvent.self)
        let handlerConfiguration = ISCSIConnectionHandler.Configuration(
            login: configuration.loginConfiguration(),
            keepaliveInterval: configuration.keepaliveInterval,
            keepaliveTimeout: configuration.keepaliveTimeout,
            portal: portal
        )
        var sessionLogger = logger
        sessionLogger[metadataKey: "iscsi.portal"] = "\(portal)"
        if let target = configuration.targetName { sessionLogger[metadataKey: "iscsi.target"] = "\(target)" }
        let handlerLogger = sessionLogger

        var bootstrap = ClientBootstrap(group: eventLoop)
            // TCP_NODELAY is an IPPROTO_TCP option: `.socketOption(.tcp_nodelay)` would put it at
            // SOL_SOCKET, where option 1 is SO_DEBUG, which needs CAP_NET_ADMIN and fails with EACCES
            // for an ordinary user. No option set here needs a privilege: SO_RCVBUF and SO_SNDBUF
            // are clamped by the kernel to net.core.rmem_max/wmem_max rather than refused.
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
            .channelOption(.socketOption(.so_sndbuf), value: 4 << 20)
            // Read up to 1 MiB per syscall: a Data-In segment arriving in 64 KiB pieces
            // would otherwise be stitched together by copying in the decoder.
            .channelOption(
                .recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(minimum: 64 << 10, initial: 256 << 10, maximum: 1 << 20)
            )
            .connectTimeout(configuration.connectTimeout)
            .channelInitializer { channel in
                let handler = ISCSIConnectionHandler(
                    configuration: handlerConfiguration,
                    submissions: submissions,
                    loginPromise: loginPromise,
                    logger: handlerLogger,
                    events: { event in continuation.yield(event) }
                )
                handlerBox.withLockedValue { $0 = NIOLoopBound(handler, eventLoop: channel.eventLoop) }
                channel.closeFuture.whenComplete { _ in continuation.finish() }
                let added = channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
                // The interface is bound here: after the address, before the connect.
                guard let source else { return added }
                return added.flatMap { source.bindDevice(of: channel) }
            }
        if let bindAddress { bootstrap = bootstrap.bind(to: bindAddress) }

        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: portal.host, port: portal.port).get()
        } catch {
            let failure = source.map { $0.connectError(error, reaching: portal) }
                ?? ISCSIError(.connectFailed, scope: .connection, "cannot connect to \(portal): \(error)")
            loginPromise.fail(failure)
            throw failure
        }
        let outcome: ISCSIConnectionHandler.LoginOutcome
        do {
            outcome = try await loginPromise.futureResult.get()
        } catch {
            channel.close(promise: nil)
            throw error
        }
        switch outcome {
        case .redirected(let next, let permanent):
            try? await channel.close()
            return .redirected(next, permanent: permanent)
        case .loggedIn(let result):
            guard let handler = handlerBox.withLockedValue({ $0 }) else {
                preconditionFailure("the channel initializer did not install the connection handler")
            }
            return .session(ISCSISession(
                configuration: configuration,
                portal: portal,
                result: result,
                channel: channel,
                handler: handler,
                submissions: submissions,
                events: events,
                logger: sessionLogger
            ))
        }
    }

    // MARK: Commands

    /// Runs one SCSI command. A SCSI status (CHECK CONDITION included) is a result;
    /// a transport failure throws `ISCSIError`.
    public func execute(_ request: SCSITaskRequest) async throws -> SCSITaskResult {
        let promise = channel.eventLoop.makePromise(of: SCSITaskResult.self)
        let id = submit(.command(request, promise))
        if let timeout = configuration.commandTimeout {
            let timer = channel.eventLoop.scheduleTask(in: timeout) { [self] in
                _ = self.submit(.timeOut(submissionID: id, after: timeout))
            }
            promise.futureResult.whenComplete { _ in timer.cancel() }
        }
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            _ = submit(.cancel(submissionID: id))
        }
    }

    /// Sends a task management function for a whole LUN (LUN RESET, ABORT TASK SET, ...);
    /// returns the target's response code.
    @discardableResult
    public func taskManagement(_ function: TaskManagementFunction, lun: UInt64) async throws -> TaskManagementResponseCode {
        let promise = channel.eventLoop.makePromise(of: UInt8.self)
        _ = submit(.taskManagement(function, lun: lun, submissionID: nil, promise))
        let raw = try await promise.futureResult.get()
        guard let code = TaskManagementResponseCode(rawValue: raw) else {
            throw ISCSIError(.taskManagementFailed, scope: .task, "\(portal) answered \(function) with unknown response \(raw)")
        }
        return code
    }

    /// Sends text keys (RFC 7143 §11.10) and returns the target's answer, following continuations.
    public func text(_ keys: [TextKeyValue]) async throws -> [TextKeyValue] {
        let promise = channel.eventLoop.makePromise(of: [TextKeyValue].self)
        _ = submit(.text(keys, promise))
        return try await promise.futureResult.get()
    }

    /// Logs the session out and closes the connection. Commands still in flight fail.
    public func logout(timeout: TimeAmount = .seconds(5)) async throws {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        let portal = self.portal
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(ISCSIError(.timeout, scope: .session, "\(portal) did not answer the logout within \(timeout.nanoseconds / 1_000_000_000) s"))
        }
        _ = submit(.logout(promise))
        let channel = self.channel
        do {
            try await promise.futureResult.get()
        } catch {
            // No logout answer: the connection may be silently lost, with commands unsent.
            timer.cancel()
            channel.eventLoop.execute {
                channel.discardUnsentOnClose()
                channel.close(promise: nil)
            }
            throw error
        }
        timer.cancel()
        channel.close(promise: nil)
    }

    /// The command window as it stands now: the next CmdSN, ExpCmdSN and MaxCmdSN.
    public func commandWindow() async throws -> CommandWindow {
        let handler = self.handler
        return try await channel.eventLoop.submit { handler.value.currentWindow }.get()
    }

    /// Closes the connection at once, without logging out; what is still unsent is dropped.
    public func close() async {
        let channel = self.channel
        try? await channel.eventLoop.submit { channel.discardUnsentOnClose() }.get()
        try? await channel.close()
    }

    private func submit(_ work: SubmissionQueue.Work) -> UInt64 {
        let (id, scheduleDrain) = submissions.enqueue(work)
        if scheduleDrain {
            let handler = self.handler
            channel.eventLoop.execute { handler.value.drainSubmissions() }
        }
        return id
    }
}
