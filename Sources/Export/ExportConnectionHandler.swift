// The channel handler of one client connection to the export: login, then the full
// feature phase. It frames PDUs itself and performs what the state machines return.

import ISCSI
import ISCSIAddress
import Logging
import NIOCore
import SCSI
import VSCSI

/// Drives one target-side iSCSI connection on its event loop.
///
/// Framing is done here rather than in a `ByteToMessageHandler` so that a PDU whose
/// header parses as an unknown or malformed opcode can be answered with a Reject and
/// skipped (RFC 7143 §11.17), instead of ending the connection; digests and segment
/// limits switch exactly between the final Login Response and the next PDU.
final class ExportConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case login(TargetLoginStateMachine)
        case fullFeature(TargetConnectionStateMachine, Session)
        case closed
    }

    /// The session this connection carries once logged in.
    private struct Session {
        var result: TargetLoginResult
        var target: ExportTarget?
        var nexus: Nexus
    }

    private let server: ExportServerContext
    private var logger: Logger
    private var state: State
    private var context: ChannelHandlerContext?
    /// Runs this connection's commands on its own event loop (see `run`).
    private var executor: EventLoopTaskExecutor?
    private var inbound = ByteBuffer()
    private let settings = ISCSIPDUDecoder.Settings(maxDataSegmentLength: 8192)
    private var decoder: ISCSIPDUDecoder
    private var encoder = ISCSIPDUEncoder()
    private var timer: RepeatedTask?
    private var loginDeadline: Scheduled<Void>?
    private var needsFlush = false
    private var flushScheduled = false
    private var registeredTSIH: UInt16?
    /// The peer's IP address, for the per-source limits.
    private var sourceAddress: String?
    /// Counted by the admission as waiting to log in (until it logs in or closes).
    private var pendingLogin = false
    /// The admission already warned about this refusal (rate-limited): the per-connection
    /// lines go to debug, so a flood of refused logins cannot flood the log.
    private var refusalWarned = false

    init(server: ExportServerContext, logger: Logger) {
        self.server = server
        self.logger = logger
        self.decoder = ISCSIPDUDecoder(accepting: .fromInitiator, settings: settings)
        self.state = .login(TargetLoginStateMachine(configuration: server.login, initialStatSN: UInt32.random(in: 1...0x7FFF_FFFF)))
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        executor = EventLoopTaskExecutor(eventLoop: context.eventLoop)
        logger[metadataKey: "export.peer"] = "\(context.remoteAddress.map { "\($0)" } ?? "?")"
        sourceAddress = context.remoteAddress?.ipAddress
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        loginDeadline = context.eventLoop.scheduleTask(in: server.configuration.loginTimeout) {
            bound.value.loginTimedOut()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        teardown()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        // Over a pending-login cap or into the descriptor reserve: closed before reading a byte.
        if let refusal = server.admission.admitConnection(from: sourceAddress ?? "?") {
            loginDeadline?.cancel()
            loginDeadline = nil
            state = .closed
            logger.debug("connection closed on arrival: \(refusal)")
            context.close(promise: nil)
            return
        }
        pendingLogin = true
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        teardown()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error: \(LogText.escaped("\(error)"))")
        close(reason: "connection error: \(error)")
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        inbound.writeBuffer(&buffer)
        // Bounded: each turn consumes one PDU's bytes or stops.
        while case .some = self.context {
            if case .closed = state { break }
            do {
                guard let pdu = try decoder.decode(buffer: &inbound) else { break }
                received(pdu)
            } catch let error as ISCSIError {
                guard skipUndecodable(error) else {
                    close(reason: "unreadable PDU: \(error.message)")
                    break
                }
            } catch {
                close(reason: "unreadable PDU: \(error)")
                break
            }
        }
        if inbound.readerIndex > 1 << 20 || inbound.readableBytes == 0 { inbound.discardReadBytes() }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushIfNeeded()
        context.fireChannelReadComplete()
    }

    /// An unknown opcode, a target opcode or a malformed field in a header whose lengths
    /// are sound: Reject it and skip its bytes. Digest errors and oversized segments
    /// cannot be skipped safely and end the connection.
    private func skipUndecodable(_ error: ISCSIError) -> Bool {
        guard case .fullFeature(var machine, let session) = state,
            error.code == .malformedPDU || error.code == .unexpectedPDU,
            let header = inbound.getSlice(at: inbound.readerIndex, length: 48),
            let lengths = inbound.getInteger(at: inbound.readerIndex + 4, as: UInt32.self)
        else { return false }
        let ahs = Int(lengths >> 24) * 4
        let dataLength = Int(lengths & 0x00FF_FFFF)
        guard dataLength <= settings.maxDataSegmentLength else { return false }
        let padded = dataLength + (4 - dataLength % 4) % 4
        let total = 48 + ahs + (settings.headerDigest ? 4 : 0) + padded + (settings.dataDigest && dataLength > 0 ? 4 : 0)
        guard inbound.readableBytes >= total else {
            // Wait for the rest of it; the decoder will fail the same way then.
            return true
        }
        inbound.moveReaderIndex(forwardBy: total)
        let opcode = header.getInteger(at: header.readerIndex, as: UInt8.self)! & 0x3F
        let reason: RejectReason = ISCSIOpcode(rawValue: opcode) == nil || error.code == .unexpectedPDU ? .commandNotSupported : .invalidPDUField
        logger.debug("rejecting a PDU: \(LogText.escaped(error.message))")
        let actions = machine.receivedUndecodable(header: header, reason: reason, now: .now())
        state = .fullFeature(machine, session)
        perform(actions)
        return true
    }

    // MARK: PDUs

    private func received(_ pdu: ISCSIPDU) {
        switch state {
        case .login(var login):
            let action: TargetLoginStateMachine.Action
            if case .loginRequest(let request) = pdu {
                if let address = sourceAddress, server.loginFailures.isThrottled(address) {
                    action = login.turnAway(request, .serviceUnavailable, reason: "too many failed logins from \(address); turned away until the \(server.loginFailures.window.nanoseconds / 1_000_000_000) s window ends")
                } else {
                    action = login.received(request)
                }
            } else {
                action = login.receivedOtherPDU(pdu.opcode)
            }
            state = .login(login)
            perform(action)
        case .fullFeature:
            perform(withMachine { machine in machine.received(pdu, now: .now()) } ?? [])
        case .closed:
            break
        }
    }

    private func perform(_ action: TargetLoginStateMachine.Action) {
        switch action {
        case .send(let response):
            write(.loginResponse(response))
            flushIfNeeded()
        case .refuse(let response, let reason):
            let status = LoginStatus(statusClass: response.statusClass, statusDetail: response.statusDetail)
            // Only a wrong secret or an unknown CHAP user is a guess worth slowing down; a
            // login that skipped CHAP learns nothing about any secret.
            if case .login(let login) = state, login.rejectedCredentials, let address = sourceAddress {
                server.loginFailures.recordFailure(address)
            }
            logger.log(level: refusalWarned ? .debug : .info, "login refused (\(status)): \(LogText.escaped(reason))")
            write(.loginResponse(response))
            close(reason: "login refused: \(reason)")
        case .admit(let candidate):
            admit(candidate)
        case .loggedIn(let response, let result):
            write(.loginResponse(response))
            enterFullFeaturePhase(result)
            flushIfNeeded()
        case .none:
            break
        }
    }

    private func admit(_ candidate: TargetLoginCandidate) {
        guard case .login(var login) = state, let context else { return }
        let target = server.target(named: candidate.targetName)
        let channel = context.channel
        let units = target.map { Array($0.units.values) } ?? []
        let nexus = Nexus(initiatorPortName: Self.portName(candidate.initiatorName, candidate.isid))
        let outcome = server.registry.admit(
            candidate,
            portal: Self.address(channel.localAddress),
            initiatorAddress: Self.address(channel.remoteAddress),
            close: { reason in channel.close(promise: nil); _ = reason },
            nexusLost: { for unit in units { unit.nexusLost(nexus) } }
        )
        let action: TargetLoginStateMachine.Action
        switch outcome {
        case .success(let tsih):
            registeredTSIH = tsih
            action = login.admitted(tsih: tsih)
        case .failure(let refusal):
            if refusal.perInitiator {
                server.admission.refusedSession(reason: refusal.reason)
                refusalWarned = true
            }
            action = login.refused(refusal.status, reason: refusal.reason)
        }
        state = .login(login)
        perform(action)
    }

    private func enterFullFeaturePhase(_ result: TargetLoginResult) {
        loginDeadline?.cancel()
        loginDeadline = nil
        leavePendingLogins()
        let parameters = result.parameters
        // Digests and limits change exactly between the final Login Response and the next PDU.
        encoder.headerDigest = parameters.headerDigest == .crc32c
        encoder.dataDigest = parameters.dataDigest == .crc32c
        settings.headerDigest = parameters.headerDigest == .crc32c
        settings.dataDigest = parameters.dataDigest == .crc32c
        settings.maxDataSegmentLength = parameters.ourMaxRecvDataSegmentLength
        let target = server.target(named: result.targetName)
        let server = self.server
        let current = target?.name
        let initiator = result.initiatorName
        let chapUser = result.chapUser
        let configuration = TargetConnectionStateMachine.Configuration(
            parameters: parameters,
            sessionType: result.sessionType,
            connectionID: result.connectionID,
            commandWindow: server.configuration.commandWindow,
            maximumTransferLength: server.configuration.maximumTransferLength,
            luns: target?.lunFields ?? [],
            sendTargets: { query in server.sendTargets(query: query, current: current, initiator: initiator, chapUser: chapUser) },
            pingInterval: server.configuration.pingInterval,
            pingTimeout: server.configuration.pingTimeout,
            connectionWriteBudget: server.configuration.connectionWriteBudget,
            exportWriteBudget: server.writeBudget,
            dataPhaseTimeout: server.configuration.dataPhaseTimeout,
            idleTimeout: result.sessionType == .discovery ? server.configuration.discoveryIdleTimeout : nil
        )
        let machine = TargetConnectionStateMachine(configuration: configuration, expCmdSN: result.expCmdSN, statSN: result.nextStatSN, now: .now())
        let nexus = Nexus(initiatorPortName: result.initiatorPortName)
        state = .fullFeature(machine, Session(result: result, target: target, nexus: nexus))
        logger[metadataKey: "export.initiator"] = "\(LogText.escaped(result.initiatorPortName))"
        logger.info("logged in: \(result.sessionType) session, TSIH \(result.tsih), target \(LogText.escaped(result.targetName ?? "-"))")
        if let context, configuration.pingInterval != nil || configuration.dataPhaseTimeout != nil || configuration.idleTimeout != nil {
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            timer = context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
                bound.value.tick()
            }
        }
    }

    private func perform(_ actions: [TargetConnectionStateMachine.Action]) {
        for action in actions {
            switch action {
            case .send(let pdu):
                write(pdu)
            case .execute(let command):
                execute(command)
            case .taskManagement(let function, let lun):
                taskManagement(function, lun: lun)
            case .writeFailed(let reason):
                logger.debug("write failed: \(LogText.escaped(reason))")
            case .close(let reason):
                flushIfNeeded()
                close(reason: reason)
                return
            }
        }
    }

    // MARK: Commands

    private func execute(_ command: TargetCommand) {
        guard case .fullFeature(_, let session) = state, let context else { return }
        guard let unit = session.target?.unit(forField: command.lun) else {
            if SCSICommandRequest.isAddressedToTarget(cdb: command.cdb), let first = session.target?.units.keys.min(),
                let unit = session.target?.units[first]
            {
                run(command, on: unit, nexus: session.nexus, context: context)
                return
            }
            let response = SCSICommandResponse.unknownLUN(cdb: command.cdb, expectedDataInLength: command.expectedDataInLength)
            completed(command.initiatorTaskTag, TargetCommandOutcome(response))
            return
        }
        run(command, on: unit, nexus: session.nexus, context: context)
    }

    /// Runs the command in a task of its own, so a slow one never holds up the connection.
    /// The task prefers this connection's event loop: it only runs there between its
    /// suspensions (blocking I/O goes to the devices' own threads), and a device reached
    /// over an iSCSI session on the same loop then submits and completes without waking
    /// another thread.
    private func run(_ command: TargetCommand, on unit: LogicalUnit, nexus: Nexus, context: ChannelHandlerContext) {
        if server.isDraining {
            // Shutting down: commands already running finish, new ones are turned away with BUSY
            // (SAM-5 §5.3.1) so the drain ends and the initiator retries once it has reconnected.
            completed(command.initiatorTaskTag, TargetCommandOutcome(status: SCSIStatus.busy.rawValue, transferLength: command.expectedDataInLength))
            return
        }
        let received = SCSICommandRequest(cdb: command.cdb, dataOut: command.dataOut, expectedDataInLength: command.expectedDataInLength, nexus: nexus)
        // A write whose EDTL differs from its CDB moves only what both allow; the residual
        // is then computed from what the CDB wanted.
        let request: SCSICommandRequest
        let wanted: Int?
        switch received.fittingDataOut(blockSize: unit.device.geometry.blockSize) {
        case .unchanged:
            (request, wanted) = (received, nil)
        case .fitted(let fitted, let wantedBytes):
            (request, wanted) = (fitted, wantedBytes)
        case .refused(let response):
            completed(command.initiatorTaskTag, TargetCommandOutcome(response))
            return
        }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let tag = command.initiatorTaskTag
        let inFlight = server.commandsInFlight
        inFlight.withLockedValue { $0 += 1 }
        let promise = context.eventLoop.makePromise(of: SCSICommandResponse.self)
        Task(executorPreference: executor) { promise.succeed(await unit.execute(request)) }
        promise.futureResult.whenSuccess { response in
            inFlight.withLockedValue { $0 -= 1 }
            bound.value.completed(tag, TargetCommandOutcome(response, transferLength: wanted))
        }
    }

    private func completed(_ tag: UInt32, _ outcome: TargetCommandOutcome) {
        guard let actions = withMachine({ machine in machine.completed(tag, outcome: outcome) }) else { return }
        perform(actions)
        flushSoon()
    }

    /// Runs `body` on the full-feature state machine. The copy held by `state` is released
    /// first, so the machine's task tables are changed in place instead of copied on write.
    private func withMachine(_ body: (inout TargetConnectionStateMachine) -> [TargetConnectionStateMachine.Action]) -> [TargetConnectionStateMachine.Action]? {
        guard case .fullFeature(var machine, let session) = state else { return nil }
        state = .closed
        defer { state = .fullFeature(machine, session) }
        return body(&machine)
    }

    private func taskManagement(_ function: TaskManagementFunction, lun: UInt64) {
        guard case .fullFeature(_, let session) = state, let target = session.target else { return }
        switch function {
        case .abortTaskSet, .clearTaskSet:
            target.unit(forField: lun)?.abortTaskSet(nexus: session.nexus)
        case .logicalUnitReset:
            target.unit(forField: lun)?.reset(kind: .logicalUnit)
        case .targetWarmReset:
            for unit in target.units.values { unit.reset(kind: .targetWarm) }
        case .targetColdReset:
            for unit in target.units.values { unit.reset(kind: .targetCold) }
            server.registry.closeSessions(ofTarget: target.name, except: session.result.tsih, reason: "TARGET COLD RESET")
        case .abortTask, .clearACA, .taskReassign:
            break
        }
    }

    // MARK: Timers

    private func tick() {
        guard let actions = withMachine({ machine in machine.timerFired(now: .now()) }) else { return }
        perform(actions)
        flushIfNeeded()
    }

    private func loginTimedOut() {
        guard case .login = state else { return }
        close(reason: "login did not finish within \(server.configuration.loginTimeout.nanoseconds / 1_000_000_000) s")
    }

    // MARK: Output and teardown

    private func write(_ pdu: ISCSIPDU) {
        guard let context else { return }
        encoder.write(pdu, to: context)
        needsFlush = true
    }

    /// Flushes once the event loop has run what is already queued: the completions of
    /// one burst of LUN answers (each resumed as a job on this loop) share one write.
    private func flushSoon() {
        guard needsFlush, !flushScheduled, let context else { return }
        flushScheduled = true
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            bound.value.flushScheduled = false
            bound.value.flushIfNeeded()
        }
    }

    private func flushIfNeeded() {
        guard needsFlush, let context else { return }
        needsFlush = false
        context.flush()
    }

    private func close(reason: String) {
        if case .closed = state { return }
        logger.log(level: refusalWarned ? .debug : .info, "closing connection: \(LogText.escaped(reason))")
        flushIfNeeded()
        teardown()
        context?.close(promise: nil)
    }

    /// This connection stops counting as one waiting to log in (once).
    private func leavePendingLogins() {
        guard pendingLogin else { return }
        pendingLogin = false
        server.admission.leftLogin(source: sourceAddress ?? "?")
    }

    private func teardown() {
        timer?.cancel()
        timer = nil
        loginDeadline?.cancel()
        loginDeadline = nil
        leavePendingLogins()
        if case .fullFeature(var machine, let session) = state {
            machine.connectionClosed()
            // The session ends with its only connection (ErrorRecoveryLevel 0): an I_T nexus loss,
            // unless a reinstating login already reported it.
            if let tsih = registeredTSIH, server.registry.remove(tsih: tsih), let target = session.target {
                for unit in target.units.values { unit.nexusLost(session.nexus) }
            }
        } else if let tsih = registeredTSIH {
            server.registry.remove(tsih: tsih)
        }
        registeredTSIH = nil
        state = .closed
    }

    /// "HOST:PORT" of a socket address, IPv6 in brackets; "?" when unknown.
    private static func address(_ address: SocketAddress?) -> String {
        guard let address, let host = address.ipAddress, let port = address.port else { return "?" }
        return ISCSIEndpoint(host: host, port: port).description
    }

    private static func portName(_ name: String, _ isid: UInt64) -> String {
        name + ",i,0x" + ExportSessionInfo.hex(isid: isid)
    }
}
