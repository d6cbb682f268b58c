// The target side of the iSCSI login phase (RFC 7143 §6.3, §11.12, §11.13): names and
// access, the security stage (AuthMethod None or CHAP, mutual CHAP), operational
// negotiation and the move to full feature phase, without I/O.

import NIOCore

/// Answers one connection's Login Requests.
///
/// Feed it every Login Request with `received(_:)`; any other PDU before login ends
/// goes to `receivedOtherPDU()`. When the initiator asks for full feature phase the
/// machine returns `.admit`, and the caller's session registry answers with
/// `admitted(tsih:)` or `refused(_:reason:)`.
///
/// Rules it keeps: every response echoes the request's ITT, ISID and stage; StatSN
/// starts at `initialStatSN` and advances once per response (§11.13.4); ExpCmdSN is
/// the login's CmdSN, which login PDUs never advance (§11.12). A stage change needs
/// the initiator's T bit and our consent: never before CHAP has succeeded.
public struct TargetLoginStateMachine: Sendable {
    private enum State: Sendable {
        case awaitingFirst
        case security(Login, SecurityStep)
        case operational(Login)
        /// Waiting for the registry's answer; the response text is ready.
        case admitting(Login, pending: PendingResponse)
        case done
    }

    private enum SecurityStep: Sendable {
        case awaitingAuthMethod
        case awaitingAlgorithm(CHAPResponder)
        case awaitingResponse(CHAPResponder)
        case authenticated
    }

    /// What the first request established; fixed for the rest of the login.
    private struct Login: Sendable {
        var sessionType: SessionType
        var initiatorName: String
        var targetName: String?
        var policy: TargetAccessPolicy
        var isid: UInt64
        var tsih: UInt16
        var connectionID: UInt16
        var cmdSN: UInt32
        var negotiation: TargetOperationalNegotiation
        var sentPortalGroupTag = false
        var authenticated: Bool
        /// The CHAP user the initiator proved, when it used CHAP.
        var chapUser: String?
    }

    private struct PendingResponse: Sendable {
        var request: LoginRequest
        var answers: [TextKeyValue]
    }

    public let configuration: TargetLoginConfiguration
    /// Set when the login failed on a CHAP response with a wrong secret or an unknown user
    /// (a guess), as opposed to a missing or malformed step.
    public private(set) var rejectedCredentials = false
    private var state: State = .awaitingFirst
    private var accumulator = TextSegmentAccumulator(limits: .login)
    private var statSN: UInt32
    private var generator: any RandomNumberGenerator & Sendable

    private static let securityKeys: Set<String> = ["AuthMethod", "CHAP_A", "CHAP_I", "CHAP_C", "CHAP_N", "CHAP_R"]

    /// - Parameter generator: source of CHAP identifiers and challenges; tests inject a seeded one.
    public init(
        configuration: TargetLoginConfiguration,
        initialStatSN: UInt32 = 1,
        generator: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) {
        self.configuration = configuration
        self.statSN = initialStatSN
        self.generator = generator
    }

    // MARK: Events

    public mutating func received(_ request: LoginRequest) -> Action {
        switch state {
        case .done:
            return .none
        case .admitting:
            // A second request while the registry decides is a protocol error of the initiator.
            return refuse(request, .initiatorError, "a Login Request arrived before the previous one was answered")
        case .awaitingFirst:
            guard request.versionMin == 0 else {
                return refuse(request, .unsupportedVersion, "VersionMin \(request.versionMin) is above the only version, 0")
            }
            let pairs: [TextKeyValue]
            switch collect(request) {
            case .more(let action): return action
            case .failed(let action): return action
            case .complete(let text): pairs = text
            }
            return first(request, pairs)
        case .security(let login, _), .operational(let login):
            guard request.isid == login.isid, request.tsih == login.tsih, request.connectionID == login.connectionID else {
                return refuse(request, .initiatorError, "ISID, TSIH or CID changed in the middle of the login")
            }
            switch collect(request) {
            case .more(let action): return action
            case .failed(let action): return action
            case .complete(let pairs): return proceed(request, pairs)
            }
        }
    }

    /// Any PDU but a Login Request before the login ended (RFC 7143 §11.13.5, 0x020B).
    public mutating func receivedOtherPDU(_ opcode: ISCSIOpcode) -> Action {
        switch state {
        case .done: return .none
        case .awaitingFirst, .security, .operational, .admitting:
            state = .done
            return .refuse(
                response(to: nil, status: .invalidDuringLogin, transit: false, stage: .securityNegotiation, next: .securityNegotiation, text: []),
                reason: "\(opcode) received during login"
            )
        }
    }

    /// The registry gave the session this TSIH: answer with T=1 into full feature phase.
    public mutating func admitted(tsih: UInt16) -> Action {
        guard case .admitting(let login, let pending) = state else {
            preconditionFailure("admitted(tsih:) without a pending admission")
        }
        state = .done
        var answer = response(
            to: pending.request, status: .success, transit: true, stage: pending.request.currentStage,
            next: .fullFeaturePhase, text: pending.answers
        )
        answer.tsih = tsih
        let result = TargetLoginResult(
            sessionType: login.sessionType,
            initiatorName: login.initiatorName,
            targetName: login.targetName,
            isid: login.isid,
            tsih: tsih,
            connectionID: login.connectionID,
            parameters: login.negotiation.result(),
            expCmdSN: login.cmdSN,
            nextStatSN: statSN,
            chapUser: login.chapUser
        )
        return .loggedIn(answer, result)
    }

    /// The connection's own circumstances refuse `request` before it is read (its source
    /// address failed to log in too often, say): the login ends with `status`.
    public mutating func turnAway(_ request: LoginRequest, _ status: LoginStatus, reason: String) -> Action {
        refuse(request, status, reason)
    }

    /// The registry refused the session (unknown TSIH, too many connections, no resources).
    public mutating func refused(_ status: LoginStatus, reason: String) -> Action {
        guard case .admitting(_, let pending) = state else {
            preconditionFailure("refused(_:reason:) without a pending admission")
        }
        return refuse(pending.request, status, reason)
    }

    // MARK: First request

    private mutating func first(_ request: LoginRequest, _ pairs: [TextKeyValue]) -> Action {
        func value(_ key: String) -> String? { pairs.last(where: { $0.key == key })?.value }
        guard let initiatorName = value("InitiatorName"), !initiatorName.isEmpty else {
            return refuse(request, .missingParameter, "the first Login Request has no InitiatorName")
        }
        let typeText = value("SessionType") ?? SessionType.normal.rawValue
        guard let sessionType = SessionType(rawValue: typeText) else {
            return refuse(request, .sessionTypeNotSupported, "SessionType=\(typeText)")
        }
        let targetName = value("TargetName")
        let policy: TargetAccessPolicy
        switch sessionType {
        case .discovery:
            policy = configuration.discoveryPolicy
        case .normal:
            guard let targetName, !targetName.isEmpty else {
                return refuse(request, .missingParameter, "a normal session's first Login Request has no TargetName")
            }
            guard let found = configuration.policy(forTarget: targetName) else {
                return refuse(request, .targetNotFound, "no target named \(targetName)")
            }
            policy = found
        }
        guard policy.allows(initiator: initiatorName) else {
            return refuse(request, .notAuthorized, "initiator \(initiatorName) is not in the ACL of \(targetName ?? "discovery")")
        }
        let login = Login(
            sessionType: sessionType,
            initiatorName: initiatorName,
            targetName: sessionType == .normal ? targetName : nil,
            policy: policy,
            isid: request.isid,
            tsih: request.tsih,
            connectionID: request.connectionID,
            cmdSN: request.cmdSN,
            negotiation: TargetOperationalNegotiation(limits: configuration.limits, sessionType: sessionType),
            authenticated: !policy.requiresCHAP
        )
        state = .security(login, .awaitingAuthMethod)
        return proceed(request, pairs)
    }

    // MARK: Stages

    private mutating func proceed(_ request: LoginRequest, _ pairs: [TextKeyValue]) -> Action {
        switch state {
        case .security(var login, let step):
            switch request.currentStage {
            case .securityNegotiation:
                return security(request, pairs, &login, step)
            case .operationalNegotiation:
                // The initiator skipped (or left) the security stage: allowed only without CHAP.
                guard login.authenticated else {
                    return refuse(request, .authenticationFailed, "CHAP is required, but the initiator skipped authentication")
                }
                return operational(request, pairs, &login)
            case .fullFeaturePhase:
                return refuse(request, .initiatorError, "CSG is full feature phase in a Login Request")
            }
        case .operational(var login):
            guard request.currentStage == .operationalNegotiation else {
                return refuse(request, .initiatorError, "CSG \(request.currentStage) after the operational stage began")
            }
            return operational(request, pairs, &login)
        case .awaitingFirst, .admitting, .done:
            preconditionFailure("proceed(_:_:) outside the security and operational stages")
        }
    }

    private mutating func security(
        _ request: LoginRequest, _ pairs: [TextKeyValue], _ login: inout Login, _ step: SecurityStep
    ) -> Action {
        var answers: [TextKeyValue] = []
        var step = step
        func value(_ key: String) -> String? { pairs.last(where: { $0.key == key })?.value }

        switch step {
        case .awaitingAuthMethod:
            let offered = value("AuthMethod").flatMap(TextValue.list) ?? ["None"]
            if login.policy.requiresCHAP {
                guard offered.contains("CHAP") else {
                    return refuse(request, .authenticationFailed, "CHAP is required, the initiator offered AuthMethod=\(offered.joined(separator: ","))")
                }
                answers.append(TextKeyValue("AuthMethod", "CHAP"))
                step = .awaitingAlgorithm(CHAPResponder(accounts: login.policy.chapAccounts, algorithms: login.policy.chapAlgorithms))
                // Some initiators send CHAP_A along with AuthMethod.
                if let algorithms = value("CHAP_A"), case .awaitingAlgorithm(var responder) = step {
                    do {
                        answers += try responder.challenge(offer: algorithms, using: &generator)
                    } catch {
                        return refuse(request, .authenticationFailed, error.reason)
                    }
                    step = .awaitingResponse(responder)
                }
            } else {
                guard offered.contains("None") else {
                    return refuse(request, .authenticationFailed, "the target uses AuthMethod=None, the initiator offered \(offered.joined(separator: ","))")
                }
                if value("AuthMethod") != nil { answers.append(TextKeyValue("AuthMethod", "None")) }
                step = .authenticated
                login.authenticated = true
            }
        case .awaitingAlgorithm(var responder):
            guard let algorithms = value("CHAP_A") else {
                return refuse(request, .authenticationFailed, "no CHAP_A after AuthMethod=CHAP")
            }
            do {
                answers += try responder.challenge(offer: algorithms, using: &generator)
            } catch {
                return refuse(request, .authenticationFailed, error.reason)
            }
            step = .awaitingResponse(responder)
        case .awaitingResponse(let responder):
            do {
                let verified = try responder.verify(pairs)
                answers += verified.answer
                login.chapUser = verified.account.credentials.user
            } catch {
                rejectedCredentials = error.wrongCredentials
                return refuse(request, .authenticationFailed, error.reason)
            }
            step = .authenticated
            login.authenticated = true
        case .authenticated:
            if pairs.contains(where: { $0.key.hasPrefix("CHAP_") }) {
                return refuse(request, .initiatorError, "CHAP keys after authentication finished")
            }
        }

        do {
            answers += try login.negotiation.answer(pairs, securityKeys: Self.securityKeys)
        } catch {
            return refuse(request, .initiatorError, error.reason)
        }
        answers += portalGroupTag(&login)

        let transit = request.transit && login.authenticated
        if transit {
            switch request.nextStage {
            case .securityNegotiation:
                return refuse(request, .initiatorError, "NSG is the security stage while leaving it")
            case .operationalNegotiation:
                state = .operational(login)
                return .send(response(to: request, status: .success, transit: true, stage: .securityNegotiation, next: .operationalNegotiation, text: answers))
            case .fullFeaturePhase:
                answers += login.negotiation.declarations()
                state = .admitting(login, pending: PendingResponse(request: request, answers: answers))
                return .admit(candidate(login))
            }
        }
        state = .security(login, step)
        return .send(response(to: request, status: .success, transit: false, stage: .securityNegotiation, next: .securityNegotiation, text: answers))
    }

    private mutating func operational(_ request: LoginRequest, _ pairs: [TextKeyValue], _ login: inout Login) -> Action {
        if pairs.contains(where: { $0.key.hasPrefix("CHAP_") }) {
            return refuse(request, .initiatorError, "CHAP keys in the operational stage")
        }
        var answers: [TextKeyValue]
        do {
            answers = try login.negotiation.answer(pairs, securityKeys: [])
        } catch {
            return refuse(request, .initiatorError, error.reason)
        }
        answers += portalGroupTag(&login)
        answers += login.negotiation.declarations()
        if request.transit {
            guard request.nextStage == .fullFeaturePhase else {
                return refuse(request, .initiatorError, "NSG \(request.nextStage) from the operational stage")
            }
            state = .admitting(login, pending: PendingResponse(request: request, answers: answers))
            return .admit(candidate(login))
        }
        state = .operational(login)
        return .send(response(to: request, status: .success, transit: false, stage: .operationalNegotiation, next: .operationalNegotiation, text: answers))
    }

    /// RFC 7143 §13.9: the target declares its portal group tag in the first response of a normal session.
    private func portalGroupTag(_ login: inout Login) -> [TextKeyValue] {
        guard login.sessionType == .normal, !login.sentPortalGroupTag else { return [] }
        login.sentPortalGroupTag = true
        return [TextKeyValue("TargetPortalGroupTag", String(configuration.portalGroupTag))]
    }

    private func candidate(_ login: Login) -> TargetLoginCandidate {
        TargetLoginCandidate(
            sessionType: login.sessionType, initiatorName: login.initiatorName, targetName: login.targetName,
            isid: login.isid, requestedTSIH: login.tsih, connectionID: login.connectionID
        )
    }

    // MARK: Text and responses

    private enum Collected {
        case more(Action)
        case failed(Action)
        case complete([TextKeyValue])
    }

    /// Joins C-bit text; an empty response asks for the next piece (RFC 7143 §6.1).
    private mutating func collect(_ request: LoginRequest) -> Collected {
        do {
            guard let pairs = try accumulator.append(request.data, continues: request.continue) else {
                return .more(.send(response(to: request, status: .success, transit: false, stage: request.currentStage, next: request.currentStage, text: [])))
            }
            return .complete(pairs)
        } catch {
            return .failed(refuse(request, .initiatorError, error.message))
        }
    }

    private mutating func refuse(_ request: LoginRequest?, _ status: LoginStatus, _ reason: String) -> Action {
        state = .done
        let stage = request?.currentStage ?? .securityNegotiation
        return .refuse(response(to: request, status: status, transit: false, stage: stage, next: stage, text: []), reason: reason)
    }

    private mutating func response(
        to request: LoginRequest?, status: LoginStatus, transit: Bool, stage: LoginStage, next: LoginStage,
        text: [TextKeyValue]
    ) -> LoginResponse {
        let cmdSN = request?.cmdSN ?? 0
        defer { statSN &+= 1 }
        return LoginResponse(
            transit: transit,
            currentStage: stage,
            nextStage: transit ? next : stage,
            versionMax: 0,
            versionActive: 0,
            isid: request?.isid ?? 0,
            tsih: status.isSuccess ? (request?.tsih ?? 0) : 0,
            initiatorTaskTag: request?.initiatorTaskTag ?? 0,
            statSN: statSN,
            expCmdSN: cmdSN,
            // Login PDUs are immediate and do not advance CmdSN; the window opens from the login's CmdSN.
            maxCmdSN: status.isSuccess ? cmdSN &+ configuration.commandWindow &- 1 : cmdSN,
            statusClass: status.statusClass,
            statusDetail: status.statusDetail,
            data: ByteBuffer(textKeyValues: text)
        )
    }
}
