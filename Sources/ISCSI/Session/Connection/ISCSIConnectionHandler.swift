// The channel handler of one initiator connection: it performs what InitiatorConnectionStateMachine decides.

import Logging
import NIOCore

/// Drives one iSCSI connection on its event loop.
///
/// Decoding and encoding happen inline (no separate codec handlers), so the
/// handler can switch digests and segment limits exactly between two PDUs and
/// write header, payload slice and trailer as separate buffers. Writes are
/// flushed once per batch: at the end of a read burst, after draining the
/// submission queue, and after the timer. One timer, re-armed to the machine's
/// next deadline, serves the login, the keepalive and command timeouts.
final class ISCSIConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct Configuration {
        var login: LoginConfiguration
        /// nil turns the keepalive off.
        var keepaliveInterval: TimeAmount?
        var keepaliveTimeout: TimeAmount
        var portal: TargetPortal
        var clock: @Sendable () -> NIODeadline = { .now() }
    }

    /// How a login attempt ended, for the session that opened the connection.
    enum LoginOutcome: Sendable {
        case loggedIn(LoginResult)
        case redirected(TargetPortal, permanent: Bool)
    }

    private let portal: TargetPortal
    private let clock: @Sendable () -> NIODeadline
    private let events: @Sendable (ISCSISessionEvent) -> Void
    let loginPromise: EventLoopPromise<LoginOutcome>
    private let submissions: SubmissionQueue

    private var machine: InitiatorConnectionStateMachine
    private var context: ChannelHandlerContext?
    private var decoder: NIOSingleStepByteToMessageProcessor<ISCSIPDUDecoder>
    private let decoderSettings: ISCSIPDUDecoder.Settings
    private var encoder = ISCSIPDUEncoder()
    private var timer: Scheduled<Void>?
    private var needsFlush = false

    /// The window as it stands, for status reports; read on the event loop.
    var currentWindow: CommandWindow { machine.window }

    init(
        configuration: Configuration,
        submissions: SubmissionQueue,
        loginPromise: EventLoopPromise<LoginOutcome>,
        logger: Logger,
        events: @escaping @Sendable (ISCSISessionEvent) -> Void
    ) {
        self.portal = configuration.portal
        self.clock = configuration.clock
        self.submissions = submissions
        self.loginPromise = loginPromise
        self.events = events
        self.machine = InitiatorConnectionStateMachine(
            configuration: .init(
                login: configuration.login,
                keepaliveInterval: configuration.keepaliveInterval,
                keepaliveTimeout: configuration.keepaliveTimeout,
                portal: configuration.portal
            ),
            logger: logger
        )
        // Until login ends, neither side may send more than the 8192-byte default (RFC 7143 §13.12).
        let settings = ISCSIPDUDecoder.Settings(maxDataSegmentLength: 8192)
        self.decoderSettings = settings
        self.decoder = NIOSingleStepByteToMessageProcessor(ISCSIPDUDecoder(accepting: .fromTarget, settings: settings))
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive {
            perform(machine.channelActive(now: clock()))
            finishBatch()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        perform(machine.handlerRemoved())
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        perform(machine.channelActive(now: clock()))
        finishBatch()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        var readError: ISCSIError?
        if !machine.isClosed {
            // Bytes of an unfinished PDU left in the decoder mean the target closed mid-PDU;
            // the decoder's message says how far it got, which helps more than "closed".
            do {
                try decoder.finishProcessing(seenEOF: true) { pdu in self.perform(self.machine.received(pdu, now: self.clock())) }
            } catch let decodeError as ISCSIError {
                readError = ISCSIError(decodeError.code, scope: decodeError.scope, "\(portal): \(decodeError.message)")
            } catch let other {
                readError = ISCSIError(.malformedPDU, scope: .connection, "reading from \(portal) failed: \(other)")
            }
        }
        perform(machine.channelInactive(readError: readError))
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            try decoder.process(buffer: buffer) { pdu in
                self.perform(self.machine.received(pdu, now: self.clock()))
            }
        } catch let error as ISCSIError {
            perform(machine.fail(error))
        } catch {
            perform(machine.fail(ISCSIError(.malformedPDU, scope: .connection, "reading from \(portal) failed: \(error)")))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !machine.isClosed {
            let now = clock()
            while let action = machine.sendNextWaiting(now: now) { perform(action) }
        }
        finishBatch()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let failure = error as? ISCSIError
            ?? ISCSIError(.connectionClosed, scope: .connection, "the connection to \(portal) failed: \(error)")
        perform(machine.fail(failure))
    }

    /// Takes everything callers queued since the last drain and hands it to the machine.
    func drainSubmissions() {
        let batch = submissions.takeAll()
        guard !batch.isEmpty else { return }
        let now = clock()
        for submission in batch { perform(machine.submitted(submission, now: now)) }
        finishBatch()
    }

    // MARK: Performing actions

    private func perform(_ action: InitiatorConnectionStateMachine.Action) {
        switch action {
        case .none:
            break
        case .write(let pdu):
            write(pdu)
        case .writeCommand(let command, let unsolicited):
            write(command)
            if let unsolicited { for pdu in unsolicited { write(pdu) } }
        case .writeDataOut(let burst):
            for pdu in burst { write(pdu) }
        case .succeedCommand(let promise, let result):
            promise.succeed(result)
        case .fail(let reply, let error):
            reply.fail(error)
        case .failSubmission(let submission, let error):
            submission.fail(error)
        case .completeTaskManagement(let promise, let response, let ended):
            for command in ended { command.promise.fail(command.error) }
            promise?.succeed(response)
        case .succeedText(let promise, let pairs):
            promise.succeed(pairs)
        case .report(let event):
            events(event)
        case .loggedIn(let result):
            enterFullFeaturePhase(result)
        case .close(let closure):
            close(closure)
        }
    }

    private func enterFullFeaturePhase(_ result: LoginResult) {
        let negotiated = result.parameters
        // Digests and limits change exactly between the final Login Response and the next PDU.
        encoder.headerDigest = negotiated.headerDigest == .crc32c
        encoder.dataDigest = negotiated.dataDigest == .crc32c
        decoderSettings.headerDigest = negotiated.headerDigest == .crc32c
        decoderSettings.dataDigest = negotiated.dataDigest == .crc32c
        decoderSettings.maxDataSegmentLength = negotiated.maxRecvDataSegmentLength
        decoderSettings.payloadDestination = { [weak self] header, length in
            self?.machine.payloadDestination(for: header, length: length)
        }
        loginPromise.succeed(.loggedIn(result))
        drainSubmissions()
    }

    private func close(_ closure: InitiatorConnectionStateMachine.ConnectionClosure) {
        let error = closure.error
        if closure.reportsLoss { events(.connectionLost(error)) }
        timer?.cancel()
        timer = nil
        switch closure.login {
        case .settled: break
        case .failed: loginPromise.fail(error)
        case .redirected(let portal, let permanent): loginPromise.succeed(.redirected(portal, permanent: permanent))
        }
        for promise in closure.loggedOut { promise.succeed(()) }
        for reply in closure.failed { reply.fail(error) }
        for submission in closure.waiting { submission.fail(error) }
        for submission in submissions.close(with: error) { submission.fail(error) }
        if closure.closesChannel, let context {
            // Only a completed logout closes gracefully; every other end drops what is unsent.
            if closure.loggedOut.isEmpty { context.channel.discardUnsentOnClose() }
            context.close(promise: nil)
        }
    }

    // MARK: Output and the timer

    private func write(_ pdu: ISCSIPDU) {
        guard let context else { return }
        encoder.write(pdu, to: context)
        needsFlush = true
    }

    /// Flushes what the batch wrote and moves the timer if the machine now needs it sooner.
    private func finishBatch() {
        guard let context else { return }
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        guard let deadline = machine.timerToArm() else { return }
        timer?.cancel()
        // The handler lives on its channel's event loop, and so does this callback: the
        // isolated view runs it there without asking the handler to be Sendable.
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            self.timer = nil
            self.perform(self.machine.timerFired(now: self.clock()))
            self.finishBatch()
        }
    }
}
