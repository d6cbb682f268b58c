// The initiator side of the iSCSI login phase (RFC 7143 §6.3, §11.12, §11.13): the
// security stage (AuthMethod None or CHAP), operational negotiation, and the move to
// full feature phase, with multi-PDU text, status codes, redirects and a deadline.

import NIOCore

/// Drives one login on one connection, without I/O.
///
/// Feed it `start(now:)`, then every Login Response; any other PDU goes to
/// `receivedPDU(opcode:)`, and the caller's timer to `timerFired(now:)` (arm it
/// for `deadline` after `start`). Each event returns the one `Action` to perform.
///
/// Rules it keeps: every request carries the configured ITT, ISID, TSIH, CID and
/// the initial CmdSN (login PDUs are immediate, RFC 7143 §11.12); ExpStatSN
/// acknowledges the last StatSN. Our text longer than the login segment limit
/// goes out in C-bit pieces, a target's C-bit text is fetched with empty requests
/// (sent with T=0, so a stage change always waits for whole text).
public struct LoginStateMachine: Sendable {
    private enum State: Sendable {
        case idle
        case security(Round, SecurityStep)
        case operational(Round)
        /// Succeeded, redirected or failed: later events are ignored.
        case done
    }

    private enum SecurityStep: Sendable {
        /// Our names and AuthMethod went out.
        case awaitingAuthMethod(CHAPExchange?)
        /// CHAP_A went out.
        case awaitingChallenge(CHAPExchange)
        /// Our side of authentication is done; waiting for the target to let us
        /// through and, with mutual CHAP, to prove itself (a non-nil exchange).
        case awaitingTransit(CHAPExchange?)
    }

    /// Request/response bookkeeping for the current stage.
    private struct Round: Sendable {
        var stage: LoginStage
        /// T bit and NSG for the last piece of our current text.
        var transit: Bool
        var nextStage: LoginStage
        /// Pieces of our text not sent yet.
        var unsent: [ByteBuffer]
        /// T bit of the request in flight.
        var sentTransit: Bool
    }

    private enum Received {
        /// The whole text of the target's answer.
        case text([TextKeyValue])
        /// An action that keeps the round going.
        case proceed(Action)
        /// A terminal action; the state is already `.done`.
        case finished(Action)
    }

    public let configuration: LoginConfiguration
    private var state: State = .idle
    private var negotiation: OperationalNegotiation
    private var accumulator = TextSegmentAccumulator(limits: .login)
    private var generator: any RandomNumberGenerator & Sendable
    private var expStatSN: UInt32
    private var requestsSent = 0
    /// When the login must have finished; set by `start(now:)`.
    public private(set) var deadline: NIODeadline?

    /// The error for the target closing the connection before the login finished. LIO closes
    /// it, instead of answering 0x0201, when a target that requires CHAP is offered only
    /// AuthMethod=None; that is reported as an authentication failure.
    public func closedByTarget(portal: String) -> ISCSIError {
        if case .security(_, .awaitingAuthMethod(nil)) = state {
            return ISCSIError(
                .authenticationFailed,
                scope: .session,
                "\(portal) closed the connection when offered AuthMethod=None: target \(target) requires authentication; configure CHAP credentials"
            )
        }
        return ISCSIError(.connectionClosed, scope: .connection, "\(portal) closed the connection during login")
    }

    /// - Parameter generator: source of the mutual CHAP identifier and challenge;
    ///   tests inject a seeded one.
    public init(
        configuration: LoginConfiguration,
        generator: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) {
        self.configuration = configuration
        self.generator = generator
        self.expStatSN = configuration.initialExpStatSN
        self.negotiation = OperationalNegotiation(
            proposal: configuration.proposal,
            sessionType: configuration.sessionType,
            target: configuration.targetLabel
        )
    }

    private var target: String { configuration.targetLabel }

    // MARK: - Events

    /// Sends the first Login Request and starts the login clock.
    public mutating func start(now: NIODeadline) -> Action {
        guard case .idle = state else { preconditionFailure("start(now:) called twice on one login") }
        deadline = now + configuration.timeout
        if let problem = configuration.proposal.validationError() {
            return fail(ISCSIError(.invalidArgument, scope: .session, "cannot log in to \(target): \(problem)"))
        }
        var keys = [
            TextKeyValue(OperationalKey.initiatorName.rawValue, configuration.initiatorName),
            TextKeyValue(OperationalKey.sessionType.rawValue, configuration.sessionType.rawValue),
        ]
        if let alias = configuration.initiatorAlias {
            keys.append(TextKeyValue(OperationalKey.initiatorAlias.rawValue, alias))
        }
        if let name = configuration.targetName {
            keys.append(TextKeyValue(OperationalKey.targetName.rawValue, name))
        }
        var round = Round(
            stage: .securityNegotiation,
            transit: false,
            nextStage: .operationalNegotiation,
            unsent: [],
            sentTransit: false
        )
        switch configuration.authentication {
        case .none:
            keys.append(TextKeyValue(OperationalKey.authMethod.rawValue, "None"))
            let action = begin(keys, in: &round, transit: true)
            return proceed(.security(round, .awaitingAuthMethod(nil)), action)
        case .chap(let credentials, let mutual, let algorithms):
            if algorithms.isEmpty {
                return fail(ISCSIError(.invalidArgument, scope: .session, "cannot log in to \(target): no CHAP algorithm"))
            }
            if let mutual, mutual.secret == credentials.secret {
                // RFC 7143 §12.1.3: a secret must not authenticate both directions.
                return fail(
                    ISCSIError(
                        .invalidArgument,
                        scope: .session,
                        "cannot log in to \(target): the mutual CHAP secret for \(mutual.user) equals the secret "
                            + "of \(credentials.user); use different secrets for the two directions"
                    )
                )
            }
            let chap = CHAPExchange(credentials: credentials, mutual: mutual, algorithms: algorithms, target: target)
            // No CHAP_A yet: the target must accept AuthMethod=CHAP first (§12.1.3).
            keys.append(TextKeyValue(OperationalKey.authMethod.rawValue, "CHAP"))
            let action = begin(keys, in: &round, transit: false)
            return proceed(.security(round, .awaitingAuthMethod(chap)), action)
        }
    }

    /// A Login Response arrived.
    public mutating func receivedLoginResponse(_ response: LoginResponse) -> Action {
        switch state {
        case .idle:
            preconditionFailure("Login Response fed to a login that was not started")
        case .done:
            return .wait
        case .security(var round, let step):
            switch accept(response, &round) {
            case .finished(let action): return action
            case .proceed(let action): return proceed(.security(round, step), action)
            case .text(let pairs): return security(step, pairs, response, round)
            }
        case .operational(var round):
            switch accept(response, &round) {
            case .finished(let action): return action
            case .proceed(let action): return proceed(.operational(round), action)
            case .text(let pairs): return operational(pairs, response, round)
            }
        }
    }

    /// Any PDU other than a Login Response arrived: a protocol violation during login.
    public mutating func receivedPDU(opcode: ISCSIOpcode) -> Action {
        switch state {
        case .idle:
            preconditionFailure("PDU fed to a login that was not started")
        case .done:
            return .wait
        case .security, .operational:
            return fail(
                violation("target \(target) sent a \(opcode) PDU during login; only Login Responses are allowed")
            )
        }
    }

    /// The caller's login timer fired at `now`.
    public mutating func timerFired(now: NIODeadline) -> Action {
        let where_: String
        switch state {
        case .idle:
            preconditionFailure("timer fired for a login that was not started")
        case .done:
            return .wait
        case .security(_, .awaitingAuthMethod):
            where_ = "the security negotiation stage, waiting for the AuthMethod answer"
        case .security(_, .awaitingChallenge):
            where_ = "the security negotiation stage, waiting for the CHAP challenge"
        case .security(_, .awaitingTransit):
            where_ = "the security negotiation stage, waiting for the target to accept our authentication"
        case .operational:
            where_ = "the operational negotiation stage"
        }
        guard let deadline else { preconditionFailure("a started login has a deadline") }
        if now < deadline { return .armTimer(remaining: deadline - now) }
        return fail(
            ISCSIError(
                .timeout,
                scope: .connection,
                "login to \(target) timed out after \(Self.format(configuration.timeout)) in \(where_); "
                    + "the target stopped answering"
            )
        )
    }

    // MARK: - Stages

    private mutating func security(
        _ step: SecurityStep,
        _ pairs: [TextKeyValue],
        _ response: LoginResponse,
        _ round: Round
    ) -> Action {
        var round = round
        // Targets declare TargetAlias and TargetPortalGroupTag as early as the first answer.
        let declarations = pairs.filter { OperationalKey(rawValue: $0.key)?.rule == .declarative }
        do {
            _ = try negotiation.receive(declarations)
        } catch {
            return fail(error)
        }
        switch step {
        case .awaitingAuthMethod(let chap):
            let offered = chap == nil ? "None" : "CHAP"
            let answer = pairs.last(where: { $0.key == OperationalKey.authMethod.rawValue })?.value
            if let answer, answer != offered {
                return fail(
                    ISCSIError(
                        .authenticationFailed,
                        scope: .session,
                        "target \(target) refused AuthMethod=\(offered) (it answered \(answer)); "
                            + (chap == nil ? "it requires authentication" : "it does not offer CHAP")
                    )
                )
            }
            guard let chap else {
                // Silence about AuthMethod=None is taken as consent when the target lets us through.
                return authenticated(response, pairs, &round, pending: nil)
            }
            guard answer != nil else {
                return fail(
                    ISCSIError(.authenticationFailed, scope: .session, "target \(target) did not answer AuthMethod=CHAP")
                )
            }
            let action = begin([chap.algorithmOffer()], in: &round, transit: false)
            return proceed(.security(round, .awaitingChallenge(chap)), action)
        case .awaitingChallenge(var chap):
            let answer: [TextKeyValue]
            do {
                answer = try chap.respond(to: pairs, using: &generator)
            } catch {
                return fail(error)
            }
            let action = begin(answer, in: &round, transit: true)
            return proceed(.security(round, .awaitingTransit(chap.expectsTargetProof ? chap : nil)), action)
        case .awaitingTransit(let pending):
            return authenticated(response, pairs, &round, pending: pending)
        }
    }

    /// Our authentication is done: check a mutual proof if one is due, then move on
    /// when the target does, or ask again when it keeps us in the security stage.
    private mutating func authenticated(
        _ response: LoginResponse,
        _ pairs: [TextKeyValue],
        _ round: inout Round,
        pending: CHAPExchange?
    ) -> Action {
        var pending = pending
        if let chap = pending {
            let sentProof = pairs.contains { $0.key == "CHAP_N" || $0.key == "CHAP_R" }
            if sentProof || response.transit {
                do {
                    try chap.verifyTarget(pairs)
                } catch {
                    return fail(error)
                }
                pending = nil
            }
        }
        if response.transit { return startOperationalStage() }
        let action = begin([], in: &round, transit: true)
        return proceed(.security(round, .awaitingTransit(pending)), action)
    }

    private mutating func startOperationalStage() -> Action {
        var round = Round(
            stage: .operationalNegotiation,
            transit: true,
            nextStage: .fullFeaturePhase,
            unsent: [],
            sentTransit: false
        )
        let action = begin(negotiation.offers(), in: &round, transit: true)
        return proceed(.operational(round), action)
    }

    private mutating func operational(_ pairs: [TextKeyValue], _ response: LoginResponse, _ round: Round) -> Action {
        var round = round
        let answers: [TextKeyValue]
        do {
            answers = try negotiation.receive(pairs)
        } catch {
            return fail(error)
        }
        guard response.transit else {
            let action = begin(answers, in: &round, transit: true)
            return proceed(.operational(round), action)
        }
        // The target left without hearing our answers: only fine where we agree anyway.
        for answer in answers {
            let key = OperationalKey(rawValue: answer.key)
            guard let key, key.rule != .obsolete else { continue }
            let proposed = pairs.last(where: { $0.key == answer.key })?.value ?? ""
            guard proposed == answer.value else {
                return fail(
                    ISCSIError(
                        .negotiationFailed,
                        scope: .session,
                        "target \(target) offered \(answer.key)=\(proposed) and moved to full feature phase "
                            + "without waiting for our answer \(answer.value)"
                    )
                )
            }
        }
        if configuration.tsih == 0, response.tsih == 0 {
            return fail(violation("target \(target) completed the login without assigning a TSIH"))
        }
        let parameters: NegotiatedParameters
        do {
            parameters = try negotiation.result()
        } catch {
            return fail(error)
        }
        return finish(
            .succeeded(
                LoginResult(
                    parameters: parameters,
                    tsih: response.tsih,
                    expStatSN: response.statSN &+ 1,
                    cmdSN: configuration.initialCmdSN,
                    expCmdSN: response.expCmdSN,
                    maxCmdSN: response.maxCmdSN
                )
            )
        )
    }

    // MARK: - Responses

    /// Checks what every Login Response must satisfy and joins C-bit text.
    private mutating func accept(_ response: LoginResponse, _ round: inout Round) -> Received {
        // A refusal ends the login whatever else the PDU says; tgt 1.0.85, for one, answers
        // refusals with an ISID of 0, and the status is what the user needs to see.
        expStatSN = response.statSN &+ 1
        if response.statusClass == 1 { return .finished(redirect(response)) }
        if var error = ISCSIError.loginStatus(
            statusClass: response.statusClass,
            statusDetail: response.statusDetail,
            target: target
        ) {
            // tgt answers a wrong CHAP response with the generic 0x0200 rather than 0x0201;
            // during CHAP that can only mean our credentials were refused.
            if response.statusClass == 2, response.statusDetail == 0, round.stage == .securityNegotiation,
               case .chap(let credentials, _, _) = configuration.authentication
            {
                error = ISCSIError(
                    .authenticationFailed,
                    scope: .session,
                    "login to \(target) failed (status 0x0200): authentication failed: the target refused CHAP user \(credentials.user)"
                )
            }
            return .finished(fail(error))
        }
        guard response.initiatorTaskTag == configuration.initiatorTaskTag else {
            return .finished(
                fail(
                    violation(
                        "target \(target) answered Initiator Task Tag \(Self.hex(response.initiatorTaskTag)), "
                            + "but the login uses \(Self.hex(configuration.initiatorTaskTag))"
                    )
                )
            )
        }
        guard response.isid == configuration.isid else {
            return .finished(
                fail(
                    violation(
                        "target \(target) answered for ISID \(Self.hex(response.isid)), ours is \(Self.hex(configuration.isid))"
                    )
                )
            )
        }
        guard response.versionActive == 0 else {
            return .finished(
                fail(
                    ISCSIError(
                        .unsupportedVersion,
                        scope: .session,
                        "target \(target) chose iSCSI version \(response.versionActive); we only speak version 0"
                    )
                )
            )
        }
        guard response.currentStage == round.stage else {
            return .finished(
                fail(violation("target \(target) answered in the \(response.currentStage) stage while we are in \(round.stage)"))
            )
        }
        if configuration.tsih != 0, response.tsih != configuration.tsih {
            return .finished(
                fail(
                    violation("target \(target) answered with TSIH \(response.tsih) for our session \(configuration.tsih)")
                )
            )
        }
        if response.transit {
            guard !response.continue else {
                return .finished(fail(violation("target \(target) set both the T and the C bit in a Login Response")))
            }
            guard round.sentTransit else {
                return .finished(
                    fail(violation("target \(target) moved to another stage although we did not ask to (T=0)"))
                )
            }
            guard response.nextStage == round.nextStage else {
                return .finished(
                    fail(
                        violation(
                            "target \(target) wants to move to the \(response.nextStage) stage; we asked for the \(round.nextStage)"
                        )
                    )
                )
            }
        }
        if !round.unsent.isEmpty {
            // The target acknowledges each piece of our continued text with an empty answer.
            guard !response.transit, !response.continue, response.data.readableBytes == 0 else {
                return .finished(
                    fail(violation("target \(target) answered before we had sent all of our continued text"))
                )
            }
            return .proceed(sendNextPiece(&round))
        }
        do {
            if let pairs = try accumulator.append(response.data, continues: response.continue) {
                return .text(pairs)
            }
        } catch {
            return .finished(fail(error))
        }
        return .proceed(request(&round, transit: false, continue: false, data: ByteBuffer()))
    }

    private mutating func redirect(_ response: LoginResponse) -> Action {
        let permanent: Bool
        switch response.statusDetail {
        case 0x01: permanent = false
        case 0x02: permanent = true
        default:
            return fail(
                violation(
                    "target \(target) redirected us with unknown status detail \(response.statusDetail) (class 1)"
                )
            )
        }
        var data = response.data
        let portal: TargetPortal
        do {
            let pairs = try data.readTextKeyValues(limits: .login)
            guard let address = pairs.last(where: { $0.key == OperationalKey.targetAddress.rawValue }) else {
                return fail(violation("target \(target) redirected us without a TargetAddress"))
            }
            portal = try TargetPortal(parsing: address.value)
        } catch {
            return fail(error)
        }
        return finish(.redirect(host: portal.host, port: portal.port, permanent: permanent))
    }

    // MARK: - Requests

    /// Starts sending `pairs` in the current round, split to the login segment limit.
    private mutating func begin(_ pairs: [TextKeyValue], in round: inout Round, transit: Bool) -> Action {
        round.transit = transit
        round.unsent = TextSegmentSplitter.split(
            ByteBuffer(textKeyValues: pairs),
            maximumSegmentLength: configuration.maximumSegmentLength
        )
        return sendNextPiece(&round)
    }

    private mutating func sendNextPiece(_ round: inout Round) -> Action {
        let piece = round.unsent.removeFirst()
        let last = round.unsent.isEmpty
        return request(&round, transit: last && round.transit, continue: !last, data: piece)
    }

    private mutating func request(_ round: inout Round, transit: Bool, continue: Bool, data: ByteBuffer) -> Action {
        requestsSent += 1
        guard requestsSent <= configuration.maximumRequests else {
            return .failed(
                violation(
                    "target \(target) kept the login going for more than \(configuration.maximumRequests) requests "
                        + "(in the \(round.stage) stage)"
                )
            )
        }
        round.sentTransit = transit
        return .sendLoginRequest(
            LoginRequest(
                transit: transit,
                continue: `continue`,
                currentStage: round.stage,
                // NSG is reserved (zero) unless T is set.
                nextStage: transit ? round.nextStage : .securityNegotiation,
                isid: configuration.isid,
                tsih: configuration.tsih,
                initiatorTaskTag: configuration.initiatorTaskTag,
                connectionID: configuration.connectionID,
                cmdSN: configuration.initialCmdSN,
                expStatSN: expStatSN,
                data: data
            )
        )
    }

    // MARK: - Helpers

    /// Moves to `next` unless `action` ended the login.
    private mutating func proceed(_ next: State, _ action: Action) -> Action {
        switch action {
        case .failed, .succeeded, .redirect: state = .done
        case .sendLoginRequest, .armTimer, .wait: state = next
        }
        return action
    }

    private mutating func finish(_ action: Action) -> Action {
        state = .done
        return action
    }

    private mutating func fail(_ error: ISCSIError) -> Action {
        finish(.failed(error))
    }

    private func violation(_ message: String) -> ISCSIError {
        ISCSIError(.protocolViolation, scope: .connection, message)
    }

    private static func hex(_ value: some BinaryInteger) -> String { "0x" + String(value, radix: 16) }

    private static func format(_ amount: TimeAmount) -> String {
        let nanoseconds = amount.nanoseconds
        if nanoseconds % 1_000_000_000 == 0 { return "\(nanoseconds / 1_000_000_000) s" }
        return "\(nanoseconds / 1_000_000) ms"
    }
}
