// One connection of the fake target: decodes the initiator's PDUs, answers the login
// itself, then hands every full-feature-phase PDU to the test's script.

import ISCSI
import NIOCore

/// The target side of one connection, and the API a script answers with.
///
/// It is deliberately not a target: it stamps sequence numbers, keeps the CmdSN
/// window the test asked for and knows the one normal answer to each request
/// (`respondNormally(to:)`); everything else is the script's business. All of
/// it runs on the connection's event loop.
final class FakeTargetConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Which digest of an outgoing PDU to spoil.
    enum Corruption {
        case headerDigest
        case dataDigest
    }

    /// How many commands beyond ExpCmdSN the fake lets in (MaxCmdSN = ExpCmdSN + window − 1);
    /// 0 closes the window. Applies to every PDU sent from now on.
    var window: Int

    /// The StatSN the next status-bearing PDU takes.
    private(set) var statSN: UInt32 = 0x1000
    /// The CmdSN the fake expects next; taken from the first Login Request.
    private(set) var expCmdSN: UInt32 = 0
    var maxCmdSN: UInt32 { expCmdSN &+ UInt32(window) &- 1 }
    /// The MaxCmdSN the initiator last heard, which is what binds it.
    private var advertisedMaxCmdSN: UInt32 = 0

    private let login: FakeTargetLogin
    private let script: FakeTarget.Script
    private let log: FakeTargetLog
    private let settings = ISCSIPDUDecoder.Settings(maxDataSegmentLength: ISCSIFraming.maximumDataSegmentLength)
    private var decoder: NIOSingleStepByteToMessageProcessor<ISCSIPDUDecoder>
    private var encoder = ISCSIPDUEncoder()
    private var context: ChannelHandlerContext?
    private var sawLoginRequest = false
    private var loggedIn = false
    /// Commands received and not yet answered with status.
    private var outstanding: Set<UInt32> = []
    /// Writes whose last unsolicited Data-Out is still to come.
    private var pendingWrites: Set<UInt32> = []

    init(login: FakeTargetLogin, window: Int, log: FakeTargetLog, script: @escaping FakeTarget.Script) {
        self.login = login
        self.window = window
        self.log = log
        self.script = script
        self.decoder = NIOSingleStepByteToMessageProcessor(ISCSIPDUDecoder(accepting: .fromInitiator, settings: settings))
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        log.connectionOpened()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        log.connectionClosed()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            try decoder.process(buffer: unwrapInboundIn(data)) { self.received($0) }
        } catch {
            log.decodeError("\(error)")
            close()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The initiator resetting the connection after a fault is expected; just end this side too.
        close()
    }

    private func received(_ pdu: ISCSIPDU) {
        log.record(pdu)
        guard loggedIn else {
            guard case .loginRequest(let request) = pdu else {
                log.decodeError("\(pdu.opcode) before the login finished")
                close()
                return
            }
            answerLogin(request)
            return
        }
        if case .scsiCommand(let command) = pdu {
            if !command.immediate {
                if Int32(bitPattern: command.cmdSN &- advertisedMaxCmdSN) > 0 {
                    log.windowViolation("CmdSN \(command.cmdSN) arrived while MaxCmdSN was \(advertisedMaxCmdSN)")
                }
                if command.cmdSN == expCmdSN { expCmdSN &+= 1 }
            }
            outstanding.insert(command.initiatorTaskTag)
            log.outstanding(outstanding.count)
        }
        script(pdu, self)
    }

    // MARK: Login

    private func answerLogin(_ request: LoginRequest) {
        if !sawLoginRequest {
            // Login PDUs are immediate: the first command will carry this CmdSN.
            expCmdSN = request.cmdSN
            sawLoginRequest = true
        }
        var data = request.data
        guard let pairs = try? data.readTextKeyValues(limits: .login) else {
            log.decodeError("Login Request text is not key=value pairs")
            close()
            return
        }
        switch login {
        case .stall:
            return
        case .redirect(let portal, let permanent):
            redirect(request, to: portal, permanent: permanent)
        case .redirectToItself:
            guard let port = context?.channel.localAddress?.port else { return }
            redirect(request, to: TargetPortal(host: "127.0.0.1", port: port), permanent: false)
        case .reply(let bytes):
            sendRaw(bytes)
        case .chapRefusingEveryResponse:
            refuseCHAP(request, pairs)
        case .accept:
            switch request.currentStage {
            case .securityNegotiation:
                send(.loginResponse(loginResponse(to: request, transit: request.transit, ["AuthMethod": "None"])))
            case .operationalNegotiation:
                // Accept every offer: a list answers with its first (preferred) value.
                var answers: [(String, String)] = []
                for pair in pairs {
                    answers.append((pair.key, String(pair.value.split(separator: ",").first ?? "")))
                }
                let final = request.transit && request.nextStage == .fullFeaturePhase
                send(.loginResponse(loginResponse(to: request, transit: request.transit, tsih: final ? 1 : 0, answers)))
                if final {
                    // Digests start with the first PDU after the final Login Response, in both directions.
                    let value = { (key: String) in answers.last(where: { $0.0 == key })?.1 }
                    encoder.headerDigest = value("HeaderDigest") == "CRC32C"
                    encoder.dataDigest = value("DataDigest") == "CRC32C"
                    settings.headerDigest = encoder.headerDigest
                    settings.dataDigest = encoder.dataDigest
                    loggedIn = true
                    log.loggedIn()
                }
            case .fullFeaturePhase:
                log.decodeError("Login Request in the full feature phase stage")
                close()
            }
        }
    }

    /// AuthMethod=CHAP, then CHAP_A (the first offered), CHAP_I and a 32-byte CHAP_C,
    /// then 0x0201 (authentication failure) for the CHAP_R, and the connection closes.
    private func refuseCHAP(_ request: LoginRequest, _ pairs: [TextKeyValue]) {
        let value = { (key: String) in pairs.last(where: { $0.key == key })?.value }
        if value("CHAP_R") != nil {
            send(.loginResponse(loginResponse(to: request, transit: false, statusClass: 2, statusDetail: 1, [(String, String)]())))
            close()
        } else if let offer = value("CHAP_A") {
            let chosen = String(offer.split(separator: ",").first ?? "")
            let challenge = (0..<32).map { _ in
                let byte = UInt8.random(in: 0...255)
                return String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16)
            }.joined()
            send(.loginResponse(loginResponse(
                to: request, transit: false, ["CHAP_A": chosen, "CHAP_I": "1", "CHAP_C": "0x" + challenge]
            )))
        } else {
            send(.loginResponse(loginResponse(to: request, transit: false, ["AuthMethod": "CHAP"])))
        }
    }

    private func redirect(_ request: LoginRequest, to portal: TargetPortal, permanent: Bool) {
        send(.loginResponse(loginResponse(
            to: request,
            transit: false,
            statusClass: 1,
            statusDetail: permanent ? 2 : 1,
            ["TargetAddress": "\(portal)"]
        )))
    }

    private func loginResponse(
        to request: LoginRequest,
        transit: Bool,
        tsih: UInt16 = 0,
        statusClass: UInt8 = 0,
        statusDetail: UInt8 = 0,
        _ pairs: KeyValuePairs<String, String>
    ) -> LoginResponse {
        loginResponse(
            to: request,
            transit: transit,
            tsih: tsih,
            statusClass: statusClass,
            statusDetail: statusDetail,
            pairs.map { ($0.key, $0.value) }
        )
    }

    private func loginResponse(
        to request: LoginRequest,
        transit: Bool,
        tsih: UInt16 = 0,
        statusClass: UInt8 = 0,
        statusDetail: UInt8 = 0,
        _ pairs: [(String, String)]
    ) -> LoginResponse {
        var text = ByteBuffer()
        for (key, value) in pairs {
            text.writeString("\(key)=\(value)")
            text.writeInteger(UInt8(0))
        }
        return LoginResponse(
            transit: transit,
            currentStage: request.currentStage,
            nextStage: transit ? request.nextStage : .securityNegotiation,
            isid: request.isid,
            tsih: tsih,
            initiatorTaskTag: request.initiatorTaskTag,
            statSN: 0,
            expCmdSN: 0,
            maxCmdSN: 0,
            statusClass: statusClass,
            statusDetail: statusDetail,
            data: text
        )
    }

    // MARK: Answering

    /// The answer a well-behaved target gives: GOOD status (reads get `pattern` data with
    /// phase-collapsed status), a NOP-In echo for a ping, "function complete" for task
    /// management, an empty final Text Response, and a Logout Response followed by a close.
    ///
    /// It never sends an R2T, so tests keep writes within FirstBurstLength (all unsolicited).
    func respondNormally(to pdu: ISCSIPDU) {
        switch pdu {
        case .scsiCommand(let command):
            if command.read {
                let length = Int(command.expectedDataTransferLength)
                send(.dataIn(DataIn(
                    final: true,
                    statusPresent: true,
                    status: 0,
                    initiatorTaskTag: command.initiatorTaskTag,
                    expCmdSN: 0,
                    maxCmdSN: 0,
                    dataSN: 0,
                    bufferOffset: 0,
                    data: ByteBuffer(bytes: Self.pattern(length: length))
                )))
            } else if command.write && !command.final {
                pendingWrites.insert(command.initiatorTaskTag)
            } else {
                send(.scsiResponse(SCSIResponse(status: 0, initiatorTaskTag: command.initiatorTaskTag, statSN: 0, expCmdSN: 0, maxCmdSN: 0)))
            }
        case .dataOut(let dataOut):
            if dataOut.final, pendingWrites.remove(dataOut.initiatorTaskTag) != nil {
                send(.scsiResponse(SCSIResponse(status: 0, initiatorTaskTag: dataOut.initiatorTaskTag, statSN: 0, expCmdSN: 0, maxCmdSN: 0)))
            }
        case .nopOut(let nop):
            // A NOP-Out with the reserved ITT answers our own ping and wants nothing back.
            guard nop.initiatorTaskTag != reservedTag else { return }
            send(.nopIn(NOPIn(lun: nop.lun, initiatorTaskTag: nop.initiatorTaskTag, statSN: 0, expCmdSN: 0, maxCmdSN: 0, data: nop.data)))
        case .taskManagementRequest(let request):
            send(.taskManagementResponse(TaskManagementResponse(
                response: TaskManagementResponseCode.functionComplete.rawValue,
                initiatorTaskTag: request.initiatorTaskTag,
                statSN: 0,
                expCmdSN: 0,
                maxCmdSN: 0
            )))
        case .textRequest(let request):
            send(.textResponse(TextResponse(
                final: true,
                initiatorTaskTag: request.initiatorTaskTag,
                targetTransferTag: reservedTag,
                statSN: 0,
                expCmdSN: 0,
                maxCmdSN: 0,
                data: ByteBuffer()
            )))
        case .logoutRequest(let request):
            send(.logoutResponse(LogoutResponse(response: 0, initiatorTaskTag: request.initiatorTaskTag, statSN: 0, expCmdSN: 0, maxCmdSN: 0)))
            close()
        case .loginRequest, .snackRequest, .nopIn, .scsiResponse, .taskManagementResponse, .loginResponse,
            .textResponse, .dataIn, .logoutResponse, .readyToTransfer, .asyncMessage, .reject:
            break
        }
    }

    /// The bytes `respondNormally` returns for a read of `length` bytes.
    static func pattern(length: Int) -> [UInt8] {
        (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
    }

    /// A Reject (RFC 7143 §11.17) of `pdu`, carrying its header as the RFC asks.
    func reject(_ pdu: ISCSIPDU, reason: RejectReason) {
        var header = ByteBuffer()
        _ = ISCSIPDUEncoder().encodeHeader(pdu, into: &header)
        let bhs = header.getSlice(at: header.readerIndex, length: ISCSIFraming.basicHeaderSegmentLength)!
        if case .scsiCommand(let command) = pdu { outstanding.remove(command.initiatorTaskTag) }
        send(.reject(Reject(reason: reason.rawValue, statSN: 0, expCmdSN: 0, maxCmdSN: 0, data: bhs)))
    }

    // MARK: Output

    /// Sends `pdu` with this connection's StatSN, ExpCmdSN and MaxCmdSN filled in.
    func send(_ pdu: ISCSIPDU) {
        var bytes = ByteBuffer()
        encoder.encode(stamped(pdu), into: &bytes)
        sendRaw(bytes)
    }

    /// Sends `pdu` (stamped like `send`) with one bit of a digest flipped.
    func send(_ pdu: ISCSIPDU, corrupting corruption: Corruption) {
        precondition(
            corruption == .headerDigest ? encoder.headerDigest : encoder.dataDigest,
            "the test corrupts a digest that the login did not negotiate"
        )
        var bytes = ByteBuffer()
        encoder.encode(stamped(pdu), into: &bytes)
        let offset: Int
        switch corruption {
        case .headerDigest: offset = ISCSIFraming.basicHeaderSegmentLength
        case .dataDigest: offset = bytes.readableBytes - ISCSIFraming.digestLength
        }
        let byte = bytes.getInteger(at: bytes.readerIndex + offset, as: UInt8.self)!
        bytes.setInteger(byte ^ 0x01, at: bytes.readerIndex + offset)
        sendRaw(bytes)
    }

    /// Sends bytes exactly as given: malformed PDUs, garbage, half a header.
    func sendRaw(_ bytes: ByteBuffer) {
        guard let context else { return }
        context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
    }

    /// Runs `body` on this connection after `delay`, for answers that must come late.
    func later(_ delay: TimeAmount, _ body: @escaping (FakeTargetConnection) -> Void) {
        guard let context else { return }
        context.eventLoop.assumeIsolated().scheduleTask(in: delay) { body(self) }
    }

    /// Closes the connection (after what was sent is flushed).
    func close() {
        context?.close(promise: nil)
    }

    /// Fills in the sequence numbers and notes which commands the PDU answers.
    private func stamped(_ pdu: ISCSIPDU) -> ISCSIPDU {
        let exp = expCmdSN
        let max = maxCmdSN
        advertisedMaxCmdSN = max
        func takeStatSN() -> UInt32 {
            defer { statSN &+= 1 }
            return statSN
        }
        switch pdu {
        case .scsiResponse(var p):
            (p.statSN, p.expCmdSN, p.maxCmdSN) = (takeStatSN(), exp, max)
            answered(p.initiatorTaskTag)
            return .scsiResponse(p)
        case .dataIn(var p):
            (p.expCmdSN, p.maxCmdSN) = (exp, max)
            if p.statusPresent {
                p.statSN = takeStatSN()
                answered(p.initiatorTaskTag)
            }
            return .dataIn(p)
        case .nopIn(var p):
            // A NOP-In carries the next StatSN without taking it.
            (p.statSN, p.expCmdSN, p.maxCmdSN) = (statSN, exp, max)
            return .nopIn(p)
        case .readyToTransfer(var p):
            (p.statSN, p.expCmdSN, p.maxCmdSN) = (statSN, exp, max)
            return .readyToTransfer(p)
        case .taskManagementResponse(var p):
            (p.statSN, p.expCmdSN, p.maxCmdSN) = (takeStatSN(), exp, max)
            return .taskManagementResponse(p)
        case .loginResponse(var p):
            (p.statSN, p.expCmdSN, p.maxCmdSN) = (takeStatSN(), exp, max)
            return .loginResponse(p)
        case .textResponse(var p):
            (p.statSN, p.expCmdSN, p.maxCmdSN) = (takeStatSN(), exp, max)
            return .textResponse(p)
        case .logoutResponse(var p):
            (p.statSN, p.expCmdSN, p.maxCmdSN) = (takeStatSN(), exp, max)
            return .logoutResponse(p)
        case .asyncMessage(var p):
            (p.statSN, p.expCmdSN, p.maxCmdSN) = (takeStatSN(), exp, max)
            return .asyncMessage(p)
        case .reject(var p):
            (p.statSN, p.expCmdSN, p.maxCmdSN) = (takeStatSN(), exp, max)
            return .reject(p)
        case .nopOut, .scsiCommand, .taskManagementRequest, .loginRequest, .textRequest, .dataOut,
            .logoutRequest, .snackRequest:
            // Initiator PDUs: the unexpected-direction tests send these as they are.
            return pdu
        }
    }

    private func answered(_ tag: UInt32) {
        outstanding.remove(tag)
    }
}
