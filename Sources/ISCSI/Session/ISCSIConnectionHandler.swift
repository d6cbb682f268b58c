// The channel handler of one initiator connection: login, then the full feature phase.
// All protocol state lives here, on the channel's event loop; callers reach it once per command.

import DequeModule
import Logging
import NIOCore

/// Drives one iSCSI connection on its event loop.
///
/// Decoding and encoding happen inline (no separate codec handlers), so the
/// handler can switch digests and segment limits exactly between two PDUs and
/// write header, payload slice and trailer as separate buffers. Writes are
/// flushed once per batch: at the end of a read burst and after draining the
/// submission queue.
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

    private enum State {
        case waitingForActive
        case loggingIn(LoginStateMachine)
        case fullFeature
        case closed(ISCSIError)
    }

    private struct CommandTask {
        var lun: UInt64
        var cmdSN: UInt32
        var write: WriteTransfer?
        var dataOut: ByteBuffer
        var read: ReadAssembly?
        var expectedDataInLength: Int
        var name: String
        var submissionID: UInt64
        var promise: EventLoopPromise<SCSITaskResult>
        /// Set when the command timed out and ABORT TASK was sent for it.
        var timedOutAfter: TimeAmount?
    }

    private enum Task {
        case command(CommandTask)
        case ping(NIODeadline)
        case taskManagement(TaskManagementFunction, lun: UInt64, referencedTag: UInt32, EventLoopPromise<UInt8>)
        case text(TextExchangeStateMachine, EventLoopPromise<[TextKeyValue]>)
        case logout(EventLoopPromise<Void>)
    }

    private let configuration: Configuration
    private let logger: Logger
    private let events: @Sendable (ISCSISessionEvent) -> Void
    let loginPromise: EventLoopPromise<LoginOutcome>
    private let submissions: SubmissionQueue

    private var state: State = .waitingForActive
    private var context: ChannelHandlerContext?
    private var decoder: NIOSingleStepByteToMessageProcessor<ISCSIPDUDecoder>
    private let decoderSettings: ISCSIPDUDecoder.Settings
    private var encoder = ISCSIPDUEncoder()
    private var window = CommandWindow(cmdSN: 0, expCmdSN: 0, maxCmdSN: 0, expStatSN: 0)
    /// The window as it stands, for status reports; read on the event loop.
    var currentWindow: CommandWindow { window }
    private var limits = TransferLimits.rfcDefaults
    private var tasks = TaskTable<Task>()
    private var waiting: Deque<SubmissionQueue.Submission> = []
    private var keepalive: KeepaliveStateMachine?
    private var timer: Scheduled<Void>?
    private var needsFlush = false
    private var loginFinished = false

    init(
        configuration: Configuration,
        submissions: SubmissionQueue,
        loginPromise: EventLoopPromise<LoginOutcome>,
        logger: Logger,
        events: @escaping @Sendable (ISCSISessionEvent) -> Void
    ) {
        self.configuration = configuration
        self.submissions = submissions
        self.loginPromise = loginPromise
        self.logger = logger
        self.events = events
        // Until login ends, neither side may send more than the 8192-byte default (RFC 7143 §13.12).
        let settings = ISCSIPDUDecoder.Settings(maxDataSegmentLength: 8192)
        self.decoderSettings = settings
        self.decoder = NIOSingleStepByteToMessageProcessor(ISCSIPDUDecoder(accepting: .fromTarget, settings: settings))
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { startLogin(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        close(ISCSIError(.connectionClosed, scope: .connection, "the connection to \(configuration.portal) was torn down"))
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        startLogin(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        var error: ISCSIError
        switch state {
        case .loggingIn(let login):
            error = login.closedByTarget(portal: "\(configuration.portal)")
        case .waitingForActive, .fullFeature, .closed:
            error = ISCSIError(.connectionClosed, scope: .connection, "\(configuration.portal) closed the connection")
        }
        if case .closed = state {
            // We closed it ourselves after a failure; that error already went out.
        } else {
            // Bytes of an unfinished PDU left in the decoder mean the target closed mid-PDU;
            // the decoder's message says how far it got, which helps more than "closed".
            do {
                try decoder.finishProcessing(seenEOF: true) { pdu in self.received(pdu) }
            } catch let decodeError as ISCSIError {
                error = ISCSIError(decodeError.code, scope: decodeError.scope, "\(configuration.portal): \(decodeError.message)")
            } catch let other {
                error = ISCSIError(.malformedPDU, scope: .connection, "reading from \(configuration.portal) failed: \(other)")
            }
        }
        // The target hanging up in the full feature phase is a lost connection like any other
        // (after a logout the state is already closed, so no event is reported then).
        if case .fullFeature = state { events(.connectionLost(error)) }
        close(error)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            try decoder.process(buffer: buffer) { pdu in
                self.received(pdu)
            }
        } catch let error as ISCSIError {
            fail(error)
        } catch {
            fail(ISCSIError(.malformedPDU, scope: .connection, "reading from \(configuration.portal) failed: \(error)"))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        sendWaitingCommands()
        flushIfNeeded()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? ISCSIError {
            fail(error)
        } else {
            fail(ISCSIError(.connectionClosed, scope: .connection, "the connection to \(configuration.portal) failed: \(error)"))
        }
    }

    // MARK: Login

    private func startLogin(context: ChannelHandlerContext) {
        guard case .waitingForActive = state else { return }
        var login = LoginStateMachine(configuration: configuration.login)
        let now = configuration.clock()
        let action = login.start(now: now)
        state = .loggingIn(login)
        perform(action)
        armTimer(at: now + configuration.login.timeout)
    }

    private func perform(_ action: LoginStateMachine.Action) {
        switch action {
        case .sendLoginRequest(let request):
            write(.loginRequest(request))
            flushIfNeeded()
        case .armTimer(let remaining):
            armTimer(at: configuration.clock() + remaining)
        case .wait:
            break
        case .succeeded(let result):
            enterFullFeaturePhase(result)
        case .redirect(let host, let port, let permanent):
            let portal = TargetPortal(host: host, port: port)
            loginFinished = true
            loginPromise.succeed(.redirected(portal, permanent: permanent))
            close(ISCSIError(.redirected, scope: .connection, "\(configuration.portal) redirected the login to \(portal)"))
        case .failed(let error):
            fail(error)
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
        decoderSettings.payloadDestination = { [weak self] header, length in self?.payloadDestination(header, length: length) }
        limits = TransferLimits(
            immediateData: negotiated.immediateData,
            initialR2T: negotiated.initialR2T,
            firstBurstLength: negotiated.firstBurstLength,
            maxBurstLength: negotiated.maxBurstLength,
            maxSendDataSegmentLength: negotiated.targetMaxRecvDataSegmentLength,
            maxRecvDataSegmentLength: negotiated.maxRecvDataSegmentLength,
            maxOutstandingR2T: negotiated.maxOutstandingR2T
        )
        window = CommandWindow(
            cmdSN: result.cmdSN,
            expCmdSN: result.expCmdSN,
            maxCmdSN: result.maxCmdSN,
            expStatSN: result.expStatSN
        )
        state = .fullFeature
        cancelTimer()
        if let interval = configuration.keepaliveInterval {
            keepalive = KeepaliveStateMachine(
                interval: interval,
                timeout: configuration.keepaliveTimeout,
                now: configuration.clock()
            )
            keepaliveTick()
        }
        loginFinished = true
        loginPromise.succeed(.loggedIn(result))
        drainSubmissions()
    }

    // MARK: Inbound PDUs

    private func received(_ pdu: ISCSIPDU) {
        switch state {
        case .loggingIn(var login):
            let action: LoginStateMachine.Action
            if case .loginResponse(let response) = pdu {
                action = login.receivedLoginResponse(response)
            } else {
                action = login.receivedPDU(opcode: pdu.opcode)
            }
            state = .loggingIn(login)
            perform(action)
        case .fullFeature:
            keepalive?.received(now: configuration.clock())
            receivedInFullFeaturePhase(pdu)
        case .waitingForActive, .closed:
            break
        }
    }

    private func receivedInFullFeaturePhase(_ pdu: ISCSIPDU) {
        switch pdu {
        case .dataIn(let dataIn):
            window.update(expCmdSN: dataIn.expCmdSN, maxCmdSN: dataIn.maxCmdSN)
            if dataIn.statusPresent { window.acknowledge(statSN: dataIn.statSN) }
            receivedDataIn(dataIn)
        case .scsiResponse(let response):
            window.update(expCmdSN: response.expCmdSN, maxCmdSN: response.maxCmdSN)
            window.acknowledge(statSN: response.statSN)
            receivedSCSIResponse(response)
        case .readyToTransfer(let r2t):
            window.update(expCmdSN: r2t.expCmdSN, maxCmdSN: r2t.maxCmdSN)
            window.observe(nextStatSN: r2t.statSN)
            receivedR2T(r2t)
        case .nopIn(let nop):
            window.update(expCmdSN: nop.expCmdSN, maxCmdSN: nop.maxCmdSN)
            window.observe(nextStatSN: nop.statSN)
            receivedNOPIn(nop)
        case .taskManagementResponse(let response):
            window.update(expCmdSN: response.expCmdSN, maxCmdSN: response.maxCmdSN)
            window.acknowledge(statSN: response.statSN)
            receivedTaskManagementResponse(response)
        case .textResponse(let response):
            window.update(expCmdSN: response.expCmdSN, maxCmdSN: response.maxCmdSN)
            window.acknowledge(statSN: response.statSN)
            receivedTextResponse(response)
        case .logoutResponse(let response):
            window.update(expCmdSN: response.expCmdSN, maxCmdSN: response.maxCmdSN)
            window.acknowledge(statSN: response.statSN)
            receivedLogoutResponse(response)
        case .asyncMessage(let message):
            window.update(expCmdSN: message.expCmdSN, maxCmdSN: message.maxCmdSN)
            window.acknowledge(statSN: message.statSN)
            receivedAsyncMessage(message)
        case .reject(let reject):
            window.update(expCmdSN: reject.expCmdSN, maxCmdSN: reject.maxCmdSN)
            window.acknowledge(statSN: reject.statSN)
            receivedReject(reject)
        case .loginResponse, .nopOut, .scsiCommand, .taskManagementRequest, .loginRequest, .textRequest,
            .dataOut, .logoutRequest, .snackRequest:
            fail(ISCSIError(
                .unexpectedPDU,
                scope: .connection,
                "\(configuration.portal) sent a \(pdu.opcode) PDU in the full feature phase"
            ))
        }
    }

    private func receivedDataIn(_ dataIn: DataIn) {
        let tag = dataIn.initiatorTaskTag
        guard case .command(var task)? = tasks[tag] else {
            logger.debug("Data-In for an unknown task", metadata: ["iscsi.itt": "\(tag)"])
            return
        }
        guard task.read != nil else {
            // Ignoring it (as for a stale tag) left the command waiting forever, and the
            // keepalive never fires while the target keeps talking.
            fail(ISCSIError(
                .protocolViolation,
                scope: .connection,
                "\(configuration.portal) sent Data-In for task 0x\(String(tag, radix: 16)) (\(task.name)), which reads no data"
            ))
            return
        }
        do {
            try task.read!.append(dataIn, allocator: allocator)
        } catch {
            fail(error)
            return
        }
        if dataIn.statusPresent {
            tasks.remove(tag)
            let residual = Self.residual(
                overflow: dataIn.residualOverflow,
                underflow: dataIn.residualUnderflow,
                count: dataIn.residualCount
            )
            complete(task, status: dataIn.status, senseData: [], residual: residual)
        } else {
            tasks.modify(tag) { $0 = .command(task) }
        }
    }

    /// A long Data-In is copied by the decoder straight into its read's buffer as it arrives:
    /// one copy from the socket's buffers, none afterwards (`ReadAssembly.lend`).
    private func payloadDestination(_ header: ISCSIPDU, length: Int) -> ByteBuffer? {
        guard case .dataIn(let dataIn) = header, case .command(var task)? = tasks[dataIn.initiatorTaskTag],
            let buffer = task.read?.lend(offset: Int(dataIn.bufferOffset), length: length, allocator: allocator)
        else { return nil }
        // Stored back before the decoder writes, so the buffer has one owner while it does.
        tasks.modify(dataIn.initiatorTaskTag) { $0 = .command(task) }
        return buffer
    }

    private func receivedSCSIResponse(_ response: SCSIResponse) {
        let tag = response.initiatorTaskTag
        guard case .command(let task)? = tasks[tag] else {
            logger.debug("SCSI Response for an unknown task", metadata: ["iscsi.itt": "\(tag)"])
            return
        }
        tasks.remove(tag)
        guard response.response == ISCSIServiceResponse.commandCompleted.rawValue else {
            task.promise.fail(ISCSIError(
                .targetError,
                scope: .task,
                "\(configuration.portal) reported a target failure (response 0x\(String(response.response, radix: 16))) for \(task.name) on LUN \(task.lun)"
            ))
            return
        }
        var segment = response.data
        var sense: [UInt8] = []
        if let length = segment.readInteger(as: UInt16.self) {
            sense = segment.readBytes(length: min(Int(length), segment.readableBytes)) ?? []
        }
        let residual = Self.residual(
            overflow: response.residualOverflow,
            underflow: response.residualUnderflow,
            count: response.residualCount
        )
        complete(task, status: response.status, senseData: sense, residual: residual)
    }

    private static func residual(overflow: Bool, underflow: Bool, count: UInt32) -> SCSITaskResult.Residual {
        if underflow { return .underflow(Int(count)) }
        if overflow { return .overflow(Int(count)) }
        return .none
    }

    private func complete(_ task: CommandTask, status: UInt8, senseData: [UInt8], residual: SCSITaskResult.Residual) {
        var data = ByteBuffer()
        if let read = task.read {
            var length = task.expectedDataInLength
            if case .underflow(let missing) = residual { length -= min(missing, length) }
            data = read.finish(length: length)
        }
        task.promise.succeed(SCSITaskResult(status: status, senseData: senseData, residual: residual, data: data))
    }

    private func receivedR2T(_ r2t: ReadyToTransfer) {
        let tag = r2t.initiatorTaskTag
        guard case .command(var task)? = tasks[tag], task.write != nil else {
            fail(ISCSIError(
                .protocolViolation,
                scope: .connection,
                "\(configuration.portal) sent an R2T for task 0x\(String(tag, radix: 16)), which has no data to write"
            ))
            return
        }
        let segments: DataOutSequence
        do {
            segments = try task.write!.answer(r2t)
        } catch {
            fail(error)
            return
        }
        tasks.modify(tag) { $0 = .command(task) }
        sendDataOut(segments, of: task, tag: tag)
    }

    private func sendDataOut(_ segments: DataOutSequence, of task: CommandTask, tag: UInt32) {
        let base = task.dataOut.readerIndex
        for segment in segments {
            let slice = task.dataOut.getSlice(at: base + segment.bufferOffset, length: segment.length)!
            write(.dataOut(DataOut(
                final: segment.final,
                lun: ISCSIPDU.encodeLUN(task.lun),
                initiatorTaskTag: tag,
                targetTransferTag: segment.targetTransferTag,
                expStatSN: window.expStatSN.rawValue,
                dataSN: segment.dataSN,
                bufferOffset: UInt32(segment.bufferOffset),
                data: slice
            )))
        }
    }

    private func receivedNOPIn(_ nop: NOPIn) {
        if nop.initiatorTaskTag != reservedTag {
            if case .ping? = tasks[nop.initiatorTaskTag] { tasks.remove(nop.initiatorTaskTag) }
            return
        }
        // The target pings us; answer only when it asked for an answer.
        guard nop.targetTransferTag != reservedTag else { return }
        write(.nopOut(NOPOut(
            immediate: true,
            lun: nop.lun,
            initiatorTaskTag: reservedTag,
            targetTransferTag: nop.targetTransferTag,
            cmdSN: window.immediateCmdSN,
            expStatSN: window.expStatSN.rawValue,
            data: nop.data
        )))
    }

    private func receivedTaskManagementResponse(_ response: TaskManagementResponse) {
        guard case .taskManagement(let function, let lun, let referenced, let promise)? =
            tasks.remove(response.initiatorTaskTag)
        else { return }
        let succeeded = response.response == TaskManagementResponseCode.functionComplete.rawValue
            || (function == .abortTask && response.response == TaskManagementResponseCode.taskDoesNotExist.rawValue)
        if succeeded {
            // The target will not answer the tasks this function ended; end them here.
            for tag in tasks.tags {
                guard case .command(let task)? = tasks[tag] else { continue }
                let ended: Bool
                switch function {
                case .abortTask: ended = tag == referenced
                case .abortTaskSet, .clearTaskSet, .logicalUnitReset: ended = task.lun == lun
                case .targetWarmReset, .targetColdReset: ended = true
                case .clearACA, .taskReassign: ended = false
                }
                if ended {
                    tasks.remove(tag)
                    if let after = task.timedOutAfter {
                        task.promise.fail(ISCSIError(.timeout, scope: .task, "\(task.name) on LUN \(task.lun) was not answered within \(Self.seconds(after)) and was aborted"))
                    } else {
                        task.promise.fail(ISCSIError(.taskAborted, scope: .task, "\(task.name) on LUN \(task.lun) was ended by \(function)"))
                    }
                }
            }
        }
        promise.succeed(response.response)
    }

    private func receivedTextResponse(_ response: TextResponse) {
        let tag = response.initiatorTaskTag
        guard case .text(var exchange, let promise)? = tasks[tag] else { return }
        let action = exchange.receivedTextResponse(response)
        tasks.modify(tag) { $0 = .text(exchange, promise) }
        performText(action, tag: tag, promise: promise)
    }

    private func performText(_ action: TextExchangeStateMachine.Action, tag: UInt32, promise: EventLoopPromise<[TextKeyValue]>) {
        switch action {
        case .sendTextRequest(let request):
            write(.textRequest(request))
        case .completed(let result):
            tasks.remove(tag)
            promise.succeed(result.pairs)
        case .failed(let error):
            tasks.remove(tag)
            promise.fail(error)
            if error.scope != .task { fail(error) }
        case .wait:
            break
        }
    }

    private func receivedLogoutResponse(_ response: LogoutResponse) {
        guard case .logout(let promise)? = tasks.remove(response.initiatorTaskTag) else { return }
        if response.response == 0 {
            promise.succeed(())
            // Without this, work submitted after a logout failed with "the target closed the
            // connection", which reads like a fault; say that the session was logged out.
            close(ISCSIError(.sessionClosed, scope: .session, "the session with \(configuration.portal) was logged out"))
            context?.close(promise: nil)
        } else {
            promise.fail(ISCSIError(
                .protocolViolation,
                scope: .session,
                "\(configuration.portal) refused the logout (response \(response.response))"
            ))
        }
    }

    private func receivedAsyncMessage(_ message: AsyncMessage) {
        switch AsyncEvent(rawValue: message.asyncEvent) {
        case .scsiAsyncEvent:
            var segment = message.data
            let length = segment.readInteger(as: UInt16.self).map(Int.init) ?? 0
            let sense = segment.readBytes(length: min(length, segment.readableBytes)) ?? []
            events(.unitAttention(lun: ISCSIPDU.decodeLUN(message.lun), senseData: sense))
        case .logoutRequested:
            events(.logoutRequested(withinSeconds: Int(message.parameter3)))
        case .connectionDropped, .allConnectionsDropped:
            events(.connectionDropAnnounced(time2Wait: Int(message.parameter2), time2Retain: Int(message.parameter3)))
        case .renegotiationRequested:
            events(.renegotiationRequested)
        case .vendorSpecific, nil:
            logger.debug("ignored asynchronous message", metadata: ["iscsi.event": "\(message.asyncEvent)"])
        }
    }

    private func receivedReject(_ reject: Reject) {
        let reason = RejectReason(rawValue: reject.reason).map(\.description) ?? "reason 0x\(String(reject.reason, radix: 16))"
        guard let tag = reject.rejectedInitiatorTaskTag, tag != reservedTag, let task = tasks.remove(tag) else {
            logger.notice("target rejected a PDU", metadata: ["iscsi.reason": "\(reason)"])
            return
        }
        let error = ISCSIError(.rejected, scope: .task, "\(configuration.portal) rejected the PDU: \(reason)")
        switch task {
        case .command(let command):
            command.promise.fail(ISCSIError(.rejected, scope: .task, "\(configuration.portal) rejected \(command.name): \(reason)"))
        case .ping:
            break
        case .taskManagement(_, _, _, let promise):
            promise.fail(error)
        case .text(_, let promise):
            promise.fail(error)
        case .logout(let promise):
            promise.fail(error)
        }
    }

    // MARK: Submissions

    /// Takes everything callers queued since the last drain and sends what the window allows.
    func drainSubmissions() {
        let batch = submissions.takeAll()
        guard !batch.isEmpty else { return }
        switch state {
        case .fullFeature:
            for submission in batch { start(submission) }
            flushIfNeeded()
        case .closed(let error):
            for submission in batch { submission.fail(error) }
        case .waitingForActive, .loggingIn:
            // Login is still running; they go out once it ends.
            waiting.append(contentsOf: batch)
        }
    }

    private func start(_ submission: SubmissionQueue.Submission) {
        switch submission.work {
        case .command(let request, let promise):
            guard waiting.isEmpty, window.isOpen else {
                waiting.append(submission)
                return
            }
            sendCommand(request, promise: promise, id: submission.id)
        case .taskManagement(let function, let lun, let submissionID, let promise):
            sendTaskManagement(function, lun: lun, referencing: submissionID, promise: promise)
        case .text(let keys, let promise):
            sendText(keys, promise: promise)
        case .logout(let promise):
            sendLogout(promise: promise)
        case .cancel(let submissionID):
            cancel(submissionID)
        case .timeOut(let submissionID, let after):
            timeOut(submissionID, after: after)
        }
    }

    private func sendWaitingCommands() {
        guard case .fullFeature = state else { return }
        while window.isOpen, let next = waiting.popFirst() {
            guard case .command(let request, let promise) = next.work else {
                start(next)
                continue
            }
            sendCommand(request, promise: promise, id: next.id)
        }
    }

    private func sendCommand(_ request: SCSITaskRequest, promise: EventLoopPromise<SCSITaskResult>, id: UInt64) {
        let dataOut = request.dataOut ?? ByteBuffer()
        let writeLength = dataOut.readableBytes
        let plan = writeLength > 0 ? WriteTransfer(totalLength: writeLength, limits: limits) : nil
        let task = CommandTask(
            lun: request.lun,
            cmdSN: window.cmdSN.rawValue,
            write: plan,
            dataOut: dataOut,
            read: request.expectedDataInLength > 0 ? ReadAssembly(expectedLength: request.expectedDataInLength) : nil,
            expectedDataInLength: request.expectedDataInLength,
            name: request.name,
            submissionID: id,
            promise: promise
        )
        guard let tag = tasks.insert(.command(task)) else {
            promise.fail(ISCSIError(.outOfResources, scope: .task, "more than \(TaskTable<Task>.capacityLimit) commands are in flight"))
            return
        }
        let cmdSN = window.takeCmdSN()
        let immediate = plan.map { dataOut.getSlice(at: dataOut.readerIndex, length: $0.immediateLength)! } ?? ByteBuffer()
        write(.scsiCommand(SCSICommand(
            immediate: false,
            final: plan?.commandIsFinal ?? true,
            read: request.expectedDataInLength > 0,
            write: writeLength > 0,
            attribute: request.attribute,
            lun: ISCSIPDU.encodeLUN(request.lun),
            initiatorTaskTag: tag,
            expectedDataTransferLength: UInt32(writeLength > 0 ? writeLength : request.expectedDataInLength),
            cmdSN: cmdSN,
            expStatSN: window.expStatSN.rawValue,
            cdb: request.cdb,
            bidirectionalReadDataLength: writeLength > 0 && request.expectedDataInLength > 0
                ? UInt32(request.expectedDataInLength) : nil,
            data: immediate
        )))
        if let plan {
            sendDataOut(plan.unsolicitedSegments, of: task, tag: tag)
        }
    }

    private func sendTaskManagement(
        _ function: TaskManagementFunction,
        lun: UInt64,
        referencing submissionID: UInt64?,
        promise: EventLoopPromise<UInt8>
    ) {
        var referencedTag = reservedTag
        var refCmdSN: UInt32 = 0
        if let submissionID {
            guard let (tag, task) = commandTask(submissionID: submissionID) else {
                // Already finished: nothing to abort.
                promise.succeed(TaskManagementResponseCode.taskDoesNotExist.rawValue)
                return
            }
            referencedTag = tag
            refCmdSN = task.cmdSN
        }
        guard let tag = tasks.insert(.taskManagement(function, lun: lun, referencedTag: referencedTag, promise)) else {
            promise.fail(ISCSIError(.outOfResources, scope: .task, "no task tag free for \(function)"))
            return
        }
        write(.taskManagementRequest(TaskManagementRequest(
            immediate: true,
            function: function,
            lun: ISCSIPDU.encodeLUN(lun),
            initiatorTaskTag: tag,
            referencedTaskTag: referencedTag,
            cmdSN: window.immediateCmdSN,
            expStatSN: window.expStatSN.rawValue,
            refCmdSN: refCmdSN
        )))
    }

    private func commandTask(submissionID: UInt64) -> (UInt32, CommandTask)? {
        for tag in tasks.tags {
            if case .command(let task)? = tasks[tag], task.submissionID == submissionID { return (tag, task) }
        }
        return nil
    }

    /// A caller's Swift task was cancelled: drop its command if unsent, else ask the target to abort it.
    private func cancel(_ submissionID: UInt64) {
        if let index = waiting.firstIndex(where: { $0.id == submissionID }) {
            waiting.remove(at: index).fail(ISCSIError(.taskAborted, scope: .task, "the command was cancelled before it was sent"))
            return
        }
        guard let (_, task) = commandTask(submissionID: submissionID) else { return }
        let promise = context!.eventLoop.makePromise(of: UInt8.self)
        sendTaskManagement(.abortTask, lun: task.lun, referencing: submissionID, promise: promise)
    }

    /// A command went unanswered for `after`: drop it if unsent, else send ABORT TASK. An abort
    /// that is refused, or itself unanswered for `after`, ends the connection (which a LUN recovers).
    private func timeOut(_ submissionID: UInt64, after: TimeAmount) {
        if let index = waiting.firstIndex(where: { $0.id == submissionID }) {
            waiting.remove(at: index).fail(ISCSIError(
                .timeout,
                scope: .task,
                "the command was not sent within \(Self.seconds(after)): \(configuration.portal) kept the command window closed"
            ))
            return
        }
        guard let context, let (tag, task) = commandTask(submissionID: submissionID) else { return }
        tasks.modify(tag) { entry in
            if case .command(var command) = entry {
                command.timedOutAfter = after
                entry = .command(command)
            }
        }
        let portal = configuration.portal
        let lost = ISCSIError(
            .timeout,
            scope: .connection,
            "\(portal) answered neither \(task.name) on LUN \(task.lun) nor its ABORT TASK within \(Self.seconds(after)) each"
        )
        let abort = context.eventLoop.makePromise(of: UInt8.self)
        // The handler lives on its channel's event loop, and so do these callbacks: the isolated
        // views run them there without asking the handler to be Sendable.
        let deadline = context.eventLoop.assumeIsolated().scheduleTask(in: after) { [self] in self.fail(lost) }
        abort.futureResult.assumeIsolated().whenComplete { [self] result in
            deadline.cancel()
            let refused = switch result {
            case .success(let code):
                code != TaskManagementResponseCode.functionComplete.rawValue
                    && code != TaskManagementResponseCode.taskDoesNotExist.rawValue
            case .failure: false
            }
            if refused {
                self.fail(ISCSIError(.timeout, scope: .connection, "\(portal) refused to abort \(task.name) on LUN \(task.lun), unanswered for \(Self.seconds(after))"))
            }
        }
        logger.warning("command timed out; aborting it", metadata: ["iscsi.command": "\(task.name)", "iscsi.timeout": "\(Self.seconds(after))"])
        sendTaskManagement(.abortTask, lun: task.lun, referencing: submissionID, promise: abort)
    }

    private func sendText(_ keys: [TextKeyValue], promise: EventLoopPromise<[TextKeyValue]>) {
        // The tag is only known after insertion, so insert a placeholder exchange first.
        let placeholder = TextExchangeStateMachine(
            configuration: .init(initiatorTaskTag: reservedTag, cmdSN: 0, expStatSN: 0, target: "\(configuration.portal)"),
            text: []
        )
        guard let tag = tasks.insert(.text(placeholder, promise)) else {
            promise.fail(ISCSIError(.outOfResources, scope: .task, "no task tag free for a text request"))
            return
        }
        var exchange = TextExchangeStateMachine(
            configuration: .init(
                initiatorTaskTag: tag,
                cmdSN: window.immediateCmdSN,
                expStatSN: window.expStatSN.rawValue,
                targetMaxRecvDataSegmentLength: limits.maxSendDataSegmentLength,
                target: "\(configuration.portal)"
            ),
            text: keys
        )
        let action = exchange.start()
        tasks.modify(tag) { $0 = .text(exchange, promise) }
        performText(action, tag: tag, promise: promise)
    }

    private func sendLogout(promise: EventLoopPromise<Void>) {
        guard let tag = tasks.insert(.logout(promise)) else {
            promise.fail(ISCSIError(.outOfResources, scope: .task, "no task tag free for logout"))
            return
        }
        write(.logoutRequest(LogoutRequest(
            immediate: true,
            reason: .closeSession,
            initiatorTaskTag: tag,
            connectionID: configuration.login.connectionID,
            cmdSN: window.immediateCmdSN,
            expStatSN: window.expStatSN.rawValue
        )))
    }

    // MARK: Keepalive and timers

    private func keepaliveTick() {
        guard var keepalive, case .fullFeature = state else { return }
        let now = configuration.clock()
        let action = keepalive.tick(now: now)
        self.keepalive = keepalive
        switch action {
        case .wait(let deadline):
            armTimer(at: deadline)
        case .sendPing(let deadline):
            if let tag = tasks.insert(.ping(now)) {
                write(.nopOut(NOPOut(
                    immediate: true,
                    initiatorTaskTag: tag,
                    cmdSN: window.immediateCmdSN,
                    expStatSN: window.expStatSN.rawValue
                )))
                flushIfNeeded()
            }
            armTimer(at: deadline)
        case .timedOut(let silence):
            fail(ISCSIError(
                .timeout,
                scope: .connection,
                "\(configuration.portal) did not answer a NOP-Out ping; nothing received for \(Self.seconds(silence))"
            ))
        }
    }

    private static func seconds(_ amount: TimeAmount) -> String {
        let tenths = amount.nanoseconds / 100_000_000
        return "\(tenths / 10).\(tenths % 10) s"
    }

    private func armTimer(at deadline: NIODeadline) {
        guard let context else { return }
        timer?.cancel()
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            self.timerFired()
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }

    private func timerFired() {
        switch state {
        case .loggingIn(var login):
            let action = login.timerFired(now: configuration.clock())
            state = .loggingIn(login)
            perform(action)
        case .fullFeature:
            keepaliveTick()
        case .waitingForActive, .closed:
            break
        }
    }

    // MARK: Output and shutdown

    private var allocator: ByteBufferAllocator { context?.channel.allocator ?? ByteBufferAllocator() }

    private func write(_ pdu: ISCSIPDU) {
        guard let context else { return }
        var header = context.channel.allocator.buffer(capacity: 64)
        let data = encoder.encodeHeader(pdu, into: &header)
        if data.readableBytes > 0 {
            context.write(wrapOutboundOut(header), promise: nil)
            context.write(wrapOutboundOut(data), promise: nil)
            var trailer = context.channel.allocator.buffer(capacity: 8)
            encoder.encodeTrailer(forDataSegment: data, into: &trailer)
            if trailer.readableBytes > 0 { context.write(wrapOutboundOut(trailer), promise: nil) }
        } else {
            context.write(wrapOutboundOut(header), promise: nil)
        }
        needsFlush = true
    }

    private func flushIfNeeded() {
        guard needsFlush, let context else { return }
        needsFlush = false
        context.flush()
    }

    /// Ends the connection with `error`: every task and waiting submission fails with it.
    private func fail(_ error: ISCSIError) {
        if case .closed = state { return }
        if case .fullFeature = state { events(.connectionLost(error)) }
        close(error)
        context?.close(promise: nil)
    }

    private func close(_ error: ISCSIError) {
        if case .closed = state { return }
        state = .closed(error)
        cancelTimer()
        if !loginFinished {
            loginFinished = true
            loginPromise.fail(error)
        }
        for (_, task) in tasks.removeAll() {
            switch task {
            case .command(let command): command.promise.fail(error)
            case .ping: break
            case .taskManagement(_, _, _, let promise): promise.fail(error)
            case .text(_, let promise): promise.fail(error)
            case .logout(let promise):
                // The target closing the connection after a logout request is the logout completing.
                if error.code == .connectionClosed { promise.succeed(()) } else { promise.fail(error) }
            }
        }
        while let submission = waiting.popFirst() { submission.fail(error) }
        for submission in submissions.close(with: error) { submission.fail(error) }
    }
}
