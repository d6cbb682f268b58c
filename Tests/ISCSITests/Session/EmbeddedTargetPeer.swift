// Plays the target for an ISCSIConnectionHandler on an EmbeddedChannel: decodes what the handler
// writes, encodes what a target answers, and owns the virtual clock. No sockets, no real time.

import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded

@testable import ISCSI

/// An `ISCSIConnectionHandler` wired to a test-side reverse codec.
///
/// The handler's clock is the embedded loop's virtual time, so advancing the
/// loop both fires its timers and moves the "now" its state machines see.
final class EmbeddedTargetPeer {
    static let portal = TargetPortal(host: "192.0.2.1", port: 3260)

    let loop = EmbeddedEventLoop()
    let channel: EmbeddedChannel
    let handler: ISCSIConnectionHandler
    let loginPromise: EventLoopPromise<ISCSIConnectionHandler.LoginOutcome>
    private let submissions = SubmissionQueue()
    private let recordedEvents = NIOLockedValueBox<[ISCSISessionEvent]>([])
    private var decoder = ISCSIPDUDecoder(accepting: .fromInitiator, maxDataSegmentLength: ISCSIFraming.maximumDataSegmentLength)
    private var unread = ByteBuffer()
    private let encoder = ISCSIPDUEncoder()

    init(keepaliveInterval: TimeAmount? = nil, keepaliveTimeout: TimeAmount = .seconds(5), loginTimeout: TimeAmount = .seconds(5)) throws {
        channel = EmbeddedChannel(loop: loop)
        loginPromise = loop.makePromise()
        var login = Fixture.configuration()
        login.timeout = loginTimeout
        let loop = self.loop
        let events = recordedEvents
        handler = ISCSIConnectionHandler(
            configuration: .init(
                login: login,
                keepaliveInterval: keepaliveInterval,
                keepaliveTimeout: keepaliveTimeout,
                portal: Self.portal,
                clock: { loop.now }
            ),
            submissions: submissions,
            loginPromise: loginPromise,
            logger: Logger(label: "vdisk.test.embedded-target"),
            events: { event in events.withLockedValue { $0.append(event) } }
        )
        try channel.pipeline.syncOperations.addHandler(handler)
        // Going active starts the login.
        channel.connect(to: try SocketAddress(ipAddress: Self.portal.host, port: Self.portal.port), promise: nil)
    }

    var events: [ISCSISessionEvent] { recordedEvents.withLockedValue { $0 } }

    /// Every PDU the handler wrote since the last call.
    func received() throws -> [ISCSIPDU] {
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            unread.writeBuffer(&buffer)
        }
        var pdus: [ISCSIPDU] = []
        while let pdu = try decoder.decode(buffer: &unread) { pdus.append(pdu) }
        return pdus
    }

    /// Delivers `pdu` as one read from the target.
    func send(_ pdu: ISCSIPDU) throws {
        var buffer = ByteBuffer()
        encoder.encode(pdu, into: &buffer)
        try channel.writeInbound(buffer)
    }

    /// Answers the handler's login (AuthMethod=None, then `Fixture.operationalAnswers`)
    /// and leaves the CmdSN window `window` commands wide (0 closes it).
    func logIn(window: UInt32 = 32) throws {
        guard case .loginRequest = try received().first else { throw PeerError.expected("a Login Request") }
        try send(.loginResponse(Fixture.response(
            .securityNegotiation,
            transit: true,
            next: .operationalNegotiation,
            statSN: 10,
            text("AuthMethod=None")
        )))
        guard case .loginRequest = try received().first else { throw PeerError.expected("the operational Login Request") }
        try send(.loginResponse(Fixture.loginToFullFeature(window: window)))
        guard case .success(.loggedIn)? = outcome(loginPromise.futureResult) else {
            throw PeerError.expected("a finished login")
        }
    }

    /// Queues a command the way `ISCSISession.execute` does and drains it onto the handler.
    func submit(_ request: SCSITaskRequest) -> EventLoopFuture<SCSITaskResult> {
        let promise = loop.makePromise(of: SCSITaskResult.self)
        _ = submissions.enqueue(.command(request, promise))
        handler.drainSubmissions()
        return promise.futureResult
    }

    /// How `future` ended, or nil while it is pending (embedded futures never need waiting for).
    func outcome<T: Sendable>(_ future: EventLoopFuture<T>) -> Result<T, any Error>? {
        let box = NIOLockedValueBox<Result<T, any Error>?>(nil)
        future.whenComplete { result in box.withLockedValue { $0 = result } }
        return box.withLockedValue { $0 }
    }

    enum PeerError: Error {
        case expected(String)
    }
}
