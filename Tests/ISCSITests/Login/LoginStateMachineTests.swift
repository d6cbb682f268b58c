// Whole login conversations against a scripted target (RFC 7143 §6.3, §11.12,
// §11.13): AuthMethod=None, one-way and mutual CHAP, stage changes the target
// chooses, multi-PDU text both ways, redirects, statuses, timeouts, bad PDUs.

import NIOCore
import Testing

@testable import ISCSI

@Suite struct LoginStateMachineTests {
    typealias Action = LoginStateMachine.Action
    let t0 = Fixture.t0

    private static let alice = CHAPCredentials(user: "alice", secret: "secret12345")
    private static let targetUser = CHAPCredentials(user: "tgtuser", secret: "mutualsecret99")
    /// The target's challenge: 00 01 … 0f with identifier 42.
    private static let challenge = "0x000102030405060708090a0b0c0d0e0f"
    /// Our mutual challenge from a CountingGenerator: identifier 0, then bytes 01 … 20.
    private static let ourChallenge = TextValue.hex(Array(1...32))
    /// SHA-256(00 ‖ "mutualsecret99" ‖ 01 … 20), computed with Python's hashlib.
    private static let targetProof = "0x2740002fdfaf5c6d7e00f26c8073589dbc60a961960ffd30acc0a13564c944ca"

    private func succeeded(tsih: UInt16, statSN: UInt32, _ parameters: NegotiatedParameters = Fixture.negotiated)
        -> Action
    {
        .succeeded(
            LoginResult(
                parameters: parameters,
                tsih: tsih,
                expStatSN: statSN &+ 1,
                cmdSN: Fixture.cmdSN,
                expCmdSN: Fixture.cmdSN,
                maxCmdSN: Fixture.cmdSN + 31
            )
        )
    }

    /// Runs the AuthMethod=None security stage; the next request carries the operational offers.
    private func throughSecurity(_ sm: inout LoginStateMachine) {
        #expect(
            sm.start(now: t0)
                == .sendLoginRequest(
                    Fixture.request(.securityNegotiation, transit: true, next: .operationalNegotiation, expStatSN: 0, Fixture.securityKeysNone)
                )
        )
        #expect(
            sm.receivedLoginResponse(
                Fixture.response(.securityNegotiation, transit: true, next: .operationalNegotiation, statSN: 10, text("AuthMethod=None"))
            )
                == .sendLoginRequest(
                    Fixture.request(.operationalNegotiation, transit: true, next: .fullFeaturePhase, expStatSN: 11, Fixture.operationalOffers)
                )
        )
    }

    private func expectFailure(
        _ action: Action,
        _ code: ISCSIError.Code,
        _ scope: ISCSIError.Scope,
        _ fragment: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard case .failed(let error) = action else {
            Issue.record("expected a failure, got \(action)", sourceLocation: sourceLocation)
            return
        }
        #expect(error.code == code, sourceLocation: sourceLocation)
        #expect(error.scope == scope, sourceLocation: sourceLocation)
        #expect(error.message.contains(fragment), "\(error.message)", sourceLocation: sourceLocation)
    }

    // MARK: - AuthMethod=None

    @Test func noneAuthenticationLogsIn() {
        var sm = LoginStateMachine(configuration: Fixture.configuration())
        #expect(
            sm.start(now: t0)
                == .sendLoginRequest(
                    Fixture.request(.securityNegotiation, transit: true, next: .operationalNegotiation, expStatSN: 0, Fixture.securityKeysNone)
                )
        )
        #expect(sm.deadline == t0 + .seconds(15))
        #expect(
            sm.receivedLoginResponse(
                Fixture.response(
                    .securityNegotiation, transit: true, next: .operationalNegotiation, statSN: 10,
                    text("AuthMethod=None", "TargetAlias=Data Disk1", "TargetPortalGroupTag=1")
                )
            )
                == .sendLoginRequest(
                    Fixture.request(.operationalNegotiation, transit: true, next: .fullFeaturePhase, expStatSN: 11, Fixture.operationalOffers)
                )
        )
        var expected = Fixture.negotiated
        expected.targetAlias = "Data Disk1"
        expected.targetPortalGroupTag = 1
        let done = sm.receivedLoginResponse(
            Fixture.response(.operationalNegotiation, transit: true, next: .fullFeaturePhase, statSN: 11, tsih: 5, Fixture.operationalAnswers)
        )
        #expect(done == succeeded(tsih: 5, statSN: 11, expected))
        if case .succeeded(let result) = done {
            #expect(result.targetAlias == "Data Disk1")
            #expect(result.targetPortalGroupTag == 1)
        }
        // Late events after the end change nothing.
        #expect(sm.timerFired(now: t0 + .seconds(60)) == .wait)
        #expect(sm.receivedPDU(opcode: .nopIn) == .wait)
        #expect(sm.receivedLoginResponse(Fixture.response(.operationalNegotiation, transit: false, statSN: 12)) == .wait)
    }

    /// istgt 0.4 answers our default offers this way (seen against the Debian 12
    /// package): TargetAlias and TargetPortalGroupTag come with the AuthMethod answer,
    /// and InitialR2T is raised to Yes, which the OR function allows.
    @Test func istgtShapedLoginNegotiates() {
        var sm = LoginStateMachine(configuration: Fixture.configuration())
        _ = sm.start(now: t0)
        _ = sm.receivedLoginResponse(
            Fixture.response(
                .securityNegotiation, transit: true, next: .operationalNegotiation, statSN: 0,
                text("TargetAlias=Disk Seven", "TargetPortalGroupTag=1", "AuthMethod=None")
            )
        )
        let answer = text(
            "HeaderDigest=None", "DataDigest=None", "MaxRecvDataSegmentLength=262144", "InitialR2T=Yes",
            "ImmediateData=Yes", "MaxBurstLength=1048576", "FirstBurstLength=262144", "MaxOutstandingR2T=1",
            "MaxConnections=1", "DefaultTime2Wait=2", "DefaultTime2Retain=0", "DataPDUInOrder=Yes",
            "DataSequenceInOrder=Yes", "ErrorRecoveryLevel=0"
        )
        let expected = NegotiatedParameters(
            maxRecvDataSegmentLength: 262_144,
            targetMaxRecvDataSegmentLength: 262_144,
            maxBurstLength: 1_048_576,
            firstBurstLength: 262_144,
            immediateData: true,
            initialR2T: true,
            defaultTime2Retain: 0,
            targetAlias: "Disk Seven",
            targetPortalGroupTag: 1
        )
        #expect(
            sm.receivedLoginResponse(
                Fixture.response(.operationalNegotiation, transit: true, next: .fullFeaturePhase, statSN: 1, tsih: 1, answer)
            ) == succeeded(tsih: 1, statSN: 1, expected)
        )
    }

    @Test func discoverySessionOffersOnlyConnectionKeys() {
        var sm = LoginStateMachine(configuration: Fixture.configuration(target: nil))
        #expect(
            sm.start(now: t0)
                == .sendLoginRequest(
                    Fixture.request(
                        .securityNegotiation, transit: true, next: .operationalNegotiation, expStatSN: 0,
                        text("InitiatorName=\(Fixture.initiator)", "SessionType=Discovery", "AuthMethod=None")
                    )
                )
        )
        #expect(
            sm.receivedLoginResponse(
                Fixture.response(.securityNegotiation, transit: true, next: .operationalNegotiation, statSN: 0, text("AuthMethod=None"))
            )
                == .sendLoginRequest(
                    Fixture.request(
                        .operationalNegotiation, transit: true, next: .fullFeaturePhase, expStatSN: 1,
                        text("HeaderDigest=None", "DataDigest=None", "MaxRecvDataSegmentLength=262144")
                    )
                )
        )
        // istgt 0.4's real answer to exactly these keys.
        let answer = text("HeaderDigest=None", "DataDigest=None", "MaxRecvDataSegmentLength=262144")
        let expected = NegotiatedParameters(maxRecvDataSegmentLength: 262_144, targetMaxRecvDataSegmentLength: 262_144)
        #expect(
            sm.receivedLoginResponse(
                Fixture.response(.operationalNegotiation, transit: true, next: .fullFeaturePhase, statSN: 1, tsih: 1, answer)
            ) == succeeded(tsih: 1, statSN: 1, expected)
        )
    }

    @Test func targetRefusingAuthMethodNoneFails() {
        var sm = LoginStateMachine(configuration: Fixture.configuration())
        _ = sm.start(now: t0)
        expectFailure(
            sm.receivedLoginResponse(Fixture.response(.securityNegotiation, transit: false, statSN: 0, text("AuthMethod=Reject"))),
            .authenticationFailed, .session, "refused AuthMethod=None (it answered Reject); it requires authentication"
        )
    }

    // MARK: - CHAP

    @Test func oneWayCHAPLogsIn() {
        var sm = LoginStateMachine(
            configuration: Fixture.configuration(authentication: .chap(Self.alice, mutual: nil)),
            generator: CountingGenerator()
        )
        #expect(
            sm.start(now: t0)
                == .sendLoginRequest(
                    Fixture.request(
                        .securityNegotiation, transit: false, expStatSN: 0,
                        text("InitiatorName=\(Fixture.initiator)", "SessionType=Normal", "TargetName=\(Fixture.target)", "AuthMethod=CHAP")
                    )
                )
        )
        #expect(
            sm.receivedLoginResponse(Fixture.response(.securityNegotiation, transit: false, statSN: 1, text("AuthMethod=CHAP")))
                == .sendLoginRequest(Fixture.request(.securityNegotiation, transit: false, expStatSN: 2, text("CHAP_A=7,5")))
        )
        #expect(
            sm.receivedLoginResponse(
                Fixture.response(.securityNegotiation, transit: false, statSN: 2, text("CHAP_A=5", "CHAP_I=42", "CHAP_C=\(Self.challenge)"))
            )
                == .sendLoginRequest(
                    Fixture.request(
                        .securityNegotiation, transit: true, next: .operationalNegotiation, expStatSN: 3,
                        text("CHAP_N=alice", "CHAP_R=0xcaaa229fbcda2bfe28a685a5c9116a56")
                    )
                )
        )
        #expect(
            sm.receivedLoginResponse(Fixture.response(.securityNegotiation, transit: true, next: .operationalNegotiation, statSN: 3))
                == .sendLoginRequest(
                    Fixture.request(.operationalNegotiation, transit: true, next: .fullFeaturePhase, expStatSN: 4, Fixture.operationalOffers)
                )
        )
        #expect(
            sm.receivedLoginResponse(
                Fixture.response(.operationalNegotiation, transit: true, next: .fullFeaturePhase, statSN: 4, tsih: 9, Fixture.operationalAnswers)
            ) == succeeded(tsih: 9, statSN: 4)
        )
    }

    /// Runs mutual CHAP (SHA-256) up to the target's proof; returns the state machine.
    private func mutualUntilProof(targetChallenge: String = LoginStateMachineTests.challenge) -> (LoginStateMachine, Action) {
        var sm = LoginStateMachine(
            configuration: Fixture.configuration(authentication: .chap(Self.alice, mutual: Self.targetUser)),
            generator: CountingGenerator()
        )
        _ = sm.start(now: t0)
        _ = sm.receivedLoginResponse(Fixture.response(.securityNegotiation, transit: false, statSN: 1, text("AuthMethod=CHAP")))
        let action = sm.receivedLoginResponse(
            Fixture.response(.securityNegotiation, transit: false, statSN: 2, text("CHAP_A=7", "CHAP_I=42", "CHAP_C=\(targetChallenge)"))
        )
        return (sm, action)
    }

    @Test func mutualCHAPLogsIn() {
        var (sm, action) = mutualUntilProof()
        #expect(
            action
                == .sendLoginRequest(
                    Fixture.request(
                        .securityNegotiation, transit: true, next: .operationalNegotiation, expStatSN: 3,
                        text(
                            "CHAP_N=alice",
                            "CHAP_R=0x9ec0e09f53e60611f6cb6c95c36dc020fd1821597d57c71c09e5567f35393022",
                            "CHAP_I=0",
                            "CHAP_C=\(Self.ourChallenge)"
                        )
                    )
                )
        )
        #expect(
            sm.receivedLoginResponse(
                Fixture.response(
                    .securityNegotiation, transit: true, next: .operationalNegotiation, statSN: 3,
                    text("CHAP_N=tgtuser", "CHAP_R=\(Self.targetProof)")
                )
            )
                == .sendLoginRequest(
                    Fixture.request(.operationalNegotiation, transit: true, next: .fullFeaturePhase, expStatSN: 4, Fixture.operationalOffers)
                )
        )
        #expect(
            sm.receivedLoginResponse(
                Fixture.response(.operationalNegotiation, transit: true, next: .fullFeaturePhase, statSN: 4, tsih: 2, Fixture.operationalAnswers)
            ) == succeeded(tsih: 2, statSN: 4)
        )
    }

    @Test func mutualProofInBase64IsAccepted() {
        var (sm, _) = mutualUntilProof()
        let proof = TextValue.base64(TextValue.binary(Self.targetProof)!)
        let action = sm.receivedLoginResponse(
            Fixture.response(
                .securityNegotiation, transit: true, next: .operationalNegotiation, statSN: 3,
                text("CHAP_N=tgtuser", "CHAP_R=\(proof)")
            )
        )
        #expect(
            action
                == .sendLoginRequest(
                    Fixture.request(.operationalNegotiation, transit: true, next: .fullFeaturePhase, expStatSN: 4, Fixture.operationalOffers)
                )
        )
    }

    @Test(arguments: [
        (["CHAP_N=tgtuser", "CHAP_R=0x00"], "did not prove it knows the mutual secret for user tgtuser; check"),
        (["CHAP_N=tgtuser", "CHAP_R=" + String(LoginStateMachineTests.targetProof.dropLast()) + "0"], "did not prove it knows the mutual secret for user tgtuser"),
        (["CHAP_N=mallory", "CHAP_R=" + LoginStateMachineTests.targetProof], "answered mutual CHAP as user 'mallory', but we expect 'tgtuser'"),
        ([], "did not prove it knows the mutual secret for user tgtuser: it sent no CHAP_N and CHAP_R"),
    ])
    func mutualCHAPFailures(keys: [String], fragment: String) {
        var (sm, _) = mutualUntilProof()
        let action = sm.receivedLoginResponse(
            Fixture.response(.securityNegotiation, transit: true, next: .operationalNegotiation, statSN: 3, text(keys))
        )
        expectFailure(action, .authenticationFailed, .session, fragment)
        if case .failed(let error) = action {
            #expect(!error.message.contains("mutualsecret99"))
            #expect(!error.message.contains("secret12345"))
        }
    }

    @Test func mutualProofMayArriveBeforeTheTargetTransits() {
        var (sm, _) = mutualUntilProof()
        // Proof with T=0: checked now, then we ask again to move on.
        #expect(
            sm.receivedLoginResponse(
                Fixture.response(.securityNegotiation, transit: false, statSN: 3, text("CHAP_N=tgtuser", "CHAP_R=\(Self.targetProof)"))
            )
                == .sendLoginRequest(
                    Fixture.request(.securityNegotiation, transit: true, next: .operationalNegotiation, expStatSN: 4, ByteBuffer())
                )
        )
        #expect(
            sm.receivedLoginResponse(Fixture.response(.securityNegotiation, transit: true, next: .operationalNegotiation, statSN: 4))
                == .sendLoginRequest(
                    Fixture.request(.operationalNegotiation, transit: true, next: .fullFeaturePhase, expStatSN: 5, Fixture.operationalOffers)
                )
        )
    }

    @Test func reflectedChallengeIsRefused() {
        // A first login challenges the target with `ourChallenge`; a target that hands that
        // challenge back in the next login wants us to compute its own proof.
        _ = mutualUntilProof()
        let (_, action) = mutualUntilProof(targetChallenge: Self.ourChallenge)
        expectFailure(action, .authenticationFailed, .session, "equal to one we issued for mutual CHAP; refusing it as a reflection")
    }

    @Test func sameSecretInBothDirectionsIsRefusedBeforeSending() {
        let same = CHAPCredentials(user: "tgtuser", secret: "secret12345")
        var sm = LoginStateMachine(configuration: Fixture.configuration(authentication: .chap(Self.alice, mutual: same)))
        expectFailure(sm.start(now: t0), .invalidArgument, .session, "use different secrets for the two directions")
    }

    @Test func targetWithoutCHAPFails() {
        var sm = LoginStateMachine(configuration: Fixture.configuration(authentication: .chap(Self.alice, mutual: nil)))
        _ = sm.start(now: t0)
        expectFailure(
            sm.receivedLoginResponse(Fixture.response(.securityNegotiation, transit: false, statSN: 1, text("AuthMethod=None"))),
            .authenticationFailed, .session, "refused AuthMethod=CHAP (it answered None); it does not offer CHAP"
        )
    }

    @Test func unofferedCHAPAlgorithmFails() {
        var sm = LoginStateMachine(
            configuration: Fixture.configuration(authentication: .chap(Self.alice, mutual: nil, algorithms: [.sha256]))
        )
        _ = sm.start(now: t0)
        #expect(
            sm.receivedLoginResponse(Fixture.response(.securityNegotiation, transit: false, statSN: 1, text("AuthMethod=CHAP")))
                == .sendLoginRequest(Fixture.request(.securityNegotiation, transit: false, expStatSN: 2, text("CHAP_A=7")))
        )
        expectFailure(
            sm.receivedLoginResponse(
                Fixture.response(.securityNegotiation, transit: false, statSN: 2, text("CHAP_A=5", "CHAP_I=1", "CHAP_C=0x01"))
            ),
            .authenticationFailed, .session, "chose CHAP_A=5, which is not among our offer 7"
        )
    }

    // MARK: - Stages the target chooses

    @Test func targetKeepsUsInTheSecurityStageForARound() {
        var sm = LoginStateMachine(configuration: Fixture.configuration())
        _ = sm.start(now: t0)
        #expect(
            sm.receivedLoginResponse(Fixture.response(.securityNegotiation, transit: false, statSN: 0, text("AuthMethod=None")))
                == .sendLoginRequest(
                    Fixture.request(.securityNegotiation, transit: true, next: .operationalNegotiation, expStatSN: 1, ByteBuffer())
                )
        )
        #expect(
            sm.receivedLoginResponse(Fixture.response(.securityNegotiation, transit: true, next: .operationalNegotiation, statSN: 1))
                == .sendLoginRequest(
                    Fixture.request(.operationalNegotiation, transit: true, next: .fullFeaturePhase, expStatSN: 2, Fixture.operationalOffers)
                )
        )
    }

    @Test func targetOffersItsOwnKeysBeforeLettingUsThrough() {
        var sm = LoginStateMachine(configuration: Fixture.configuration())
        throughSecurity(&sm)
        #expect(
            sm.receivedLoginResponse(
                Fixture.response(
                    .operationalNegotiation, transit: false, statSN: 11,
                    text(["MaxOutstandingR2T=1"] + ["IFMarker=No", "X-vendor.Thing=7", "iSCSIProtocolLevel=1"])
                )
            )
                == .sendLoginRequest(
                    Fixture.request(
                        .operationalNegotiation, transit: true, next: .fullFeaturePhase, expStatSN: 12,
                        text("IFMarker=Reject", "X-vendor.Thing=NotUnderstood", "iSCSIProtocolLevel=1")
                    )
                )
        )
        var expected = NegotiatedParameters(
            maxRecvDataSegmentLength: 262_144,
            maxBurstLength: 262_144,  // unanswered offer: min(1 MiB, RFC default)
            immediateData: true,
            defaultTime2Retain: 0,
            protocolLevel: 1
        )
        expected.firstBurstLength = 65536
        #expect(
            sm.receivedLoginResponse(
                Fixture.response(.operationalNegotiation, transit: true, next: .fullFeaturePhase, statSN: 12, tsih: 3)
            ) == succeeded(tsih: 3, statSN: 12, expected)
        )
    }

    @Test func targetThatTransitsWithoutOurAnswerMustAgreeWithIt() {
        var sm = LoginStateMachine(configuration: Fixture.configuration())
        throughSecurity(&sm)
        expectFailure(
            sm.receivedLoginResponse(
                Fixture.response(
                    .operationalNegotiation, transit: true, next: .fullFeaturePhase, statSN: 11, tsih: 1,
                    text("TaskReporter=FastAbort")
                )
            ),
            .negotiationFailed, .session,
            "offered TaskReporter=FastAbort and moved to full feature phase without waiting for our answer Reject"
        )
    }

    @Test(arguments: [
        (false, LoginStage.securityNegotiation, LoginStage.operationalNegotiation, "moved to another stage although we did not ask to"),
        (true, LoginStage.securityNegotiation, LoginStage.fullFeaturePhase, "wants to move to the full feature phase stage; we asked for the operational negotiation"),
        (false, LoginStage.operationalNegotiation, LoginStage.securityNegotiation, "answered in the operational negotiation stage while we are in security negotiation"),
    ])
    func stageRulesAreEnforced(weTransit: Bool, responseStage: LoginStage, responseNext: LoginStage, fragment: String) {
        var sm = LoginStateMachine(
            configuration: Fixture.configuration(authentication: weTransit ? .none : .chap(Self.alice, mutual: nil))
        )
        _ = sm.start(now: t0)
        let transit = responseNext != .securityNegotiation
        expectFailure(
            sm.receivedLoginResponse(
                Fixture.response(responseStage, transit: transit, next: responseNext, statSN: 0, text("AuthMethod=CHAP"))
            ),
            .protocolViolation, .connection, fragment
        )
    }

    // MARK: - Multi-PDU text

    @Test func continuedResponsesAreFetchedWithEmptyRequests() {
        var sm = LoginStateMachine(configuration: Fixture.configuration())
        throughSecurity(&sm)
        var answers = Fixture.operationalAnswers
        let first = answers.readSlice(length: 50)!
        let second = answers.readSlice(length: 100)!
        // C=1 pieces, split inside keys: each is fetched with an empty T=0 request.
        #expect(
            sm.receivedLoginResponse(Fixture.response(.operationalNegotiation, transit: false, continue: true, statSN: 11, first))
                == .sendLoginRequest(Fixture.request(.operationalNegotiation, transit: false, expStatSN: 12, ByteBuffer()))
        )
        #expect(
            sm.receivedLoginResponse(Fixture.response(.operationalNegotiation, transit: false, continue: true, statSN: 12, second))
                == .sendLoginRequest(Fixture.request(.operationalNegotiation, transit: false, expStatSN: 13, ByteBuffer()))
        )
        // The last piece completes the text; having sent T=0, we now ask to move on.
        #expect(
            sm.receivedLoginResponse(Fixture.response(.operationalNegotiation, transit: false, statSN: 13, answers))
                == .sendLoginRequest(
                    Fixture.request(.operationalNegotiation, transit: true, next: .fullFeaturePhase, expStatSN: 14, ByteBuffer())
                )
        )
        #expect(
            sm.receivedLoginResponse(Fixture.response(.operationalNegotiation, transit: true, next: .fullFeaturePhase, statSN: 14, tsih: 4))
                == succeeded(tsih: 4, statSN: 14)
        )
    }

    @Test func ourLongTextGoesOutInContinuedPieces() {
        var sm = LoginStateMachine(configuration: Fixture.configuration(maximumSegmentLength: 64))
        let pieces = TextSegmentSplitter.split(Fixture.securityKeysNone, maximumSegmentLength: 64)
        #expect(pieces.count == 2)
        #expect(
            sm.start(now: t0)
                == .sendLoginRequest(Fixture.request(.securityNegotiation, transit: false, continue: true, expStatSN: 0, pieces[0]))
        )
        // The target acknowledges the first piece with an empty response.
        #expect(
            sm.receivedLoginResponse(Fixture.response(.securityNegotiation, transit: false, statSN: 0))
                == .sendLoginRequest(
                    Fixture.request(.securityNegotiation, transit: true, next: .operationalNegotiation, expStatSN: 1, pieces[1])
                )
        )
        let offers = TextSegmentSplitter.split(Fixture.operationalOffers, maximumSegmentLength: 64)
        #expect(
            sm.receivedLoginResponse(
                Fixture.response(.securityNegotiation, transit: true, next: .operationalNegotiation, statSN: 1, text("AuthMethod=None"))
            ) == .sendLoginRequest(Fixture.request(.operationalNegotiation, transit: false, continue: true, expStatSN: 2, offers[0]))
        )
        // Answering before all pieces are out is a violation.
        expectFailure(
            sm.receivedLoginResponse(Fixture.response(.operationalNegotiation, transit: false, statSN: 2, text("A=b"))),
            .protocolViolation, .connection, "answered before we had sent all of our continued text"
        )
    }

    @Test func targetThatNeverFinishesIsCutOff() {
        var configuration = Fixture.configuration()
        configuration.maximumRequests = 3
        var sm = LoginStateMachine(configuration: configuration)
        _ = sm.start(now: t0)
        #expect(sm.receivedLoginResponse(Fixture.response(.securityNegotiation, transit: false, statSN: 0, text("AuthMethod=None"))) != .wait)
        #expect(sm.receivedLoginResponse(Fixture.response(.securityNegotiation, transit: false, statSN: 1)) != .wait)
        expectFailure(
            sm.receivedLoginResponse(Fixture.response(.securityNegotiation, transit: false, statSN: 2)),
            .protocolViolation, .connection, "kept the login going for more than 3 requests (in the security negotiation stage)"
        )
    }

    // MARK: - Redirects and statuses

    @Test(arguments: [
        (UInt8(1), "TargetAddress=[fe80::1]:3261,2", "fe80::1", 3261, false),
        (UInt8(2), "TargetAddress=10.1.2.3", "10.1.2.3", 3260, true),
        (UInt8(1), "TargetAddress=san.example:3300,1", "san.example", 3300, false),
    ])
    func redirects(detail: UInt8, key: String, host: String, port: Int, permanent: Bool) {
        var sm = LoginStateMachine(configuration: Fixture.configuration())
        _ = sm.start(now: t0)
        #expect(
            sm.receivedLoginResponse(
                Fixture.response(.securityNegotiation, transit: false, statSN: 0, statusClass: 1, statusDetail: detail, text(key))
            ) == .redirect(host: host, port: port, permanent: permanent)
        )
        #expect(sm.timerFired(now: t0 + .seconds(30)) == .wait)
    }

    @Test(arguments: [
        (UInt8(1), ByteBuffer(), "redirected us without a TargetAddress"),
        (UInt8(1), text("TargetAddress=fe80::1:3260"), "must be written in brackets"),
        (UInt8(3), text("TargetAddress=10.0.0.1"), "unknown status detail 3 (class 1)"),
    ])
    func badRedirects(detail: UInt8, data: ByteBuffer, fragment: String) {
        var sm = LoginStateMachine(configuration: Fixture.configuration())
        _ = sm.start(now: t0)
        expectFailure(
            sm.receivedLoginResponse(
                Fixture.response(.securityNegotiation, transit: false, statSN: 0, statusClass: 1, statusDetail: detail, data)
            ),
            .protocolViolation, .connection, fragment
        )
    }

    @Test func failureStatusEndsTheLogin() {
        var sm = LoginStateMachine(configuration: Fixture.configuration())
        _ = sm.start(now: t0)
        expectFailure(
            sm.receivedLoginResponse(Fixture.response(.securityNegotiation, transit: false, statSN: 0, statusClass: 2, statusDetail: 3)),
            .targetNotFound, .session, "login to \(Fixture.target) failed (status 0x0203): target not found"
        )
        #expect(sm.receivedLoginResponse(Fixture.response(.securityNegotiation, transit: false, statSN: 1)) == .wait)
    }

    // MARK: - Checks on every response

    @Test func wrongTagOrISIDOrVersionIsRefused() {
        var sm = LoginStateMachine(configuration: Fixture.configuration())
        _ = sm.start(now: t0)
        var response = Fixture.response(.securityNegotiation, transit: false, statSN: 0)
        response.initiatorTaskTag = 8
        expectFailure(sm.receivedLoginResponse(response), .protocolViolation, .connection, "answered Initiator Task Tag 0x8, but the login uses 0x7")

        sm = LoginStateMachine(configuration: Fixture.configuration())
        _ = sm.start(now: t0)
        response = Fixture.response(.securityNegotiation, transit: false, statSN: 0)
        response.isid = 1
        expectFailure(sm.receivedLoginResponse(response), .protocolViolation, .connection, "answered for ISID 0x1")

        sm = LoginStateMachine(configuration: Fixture.configuration())
        _ = sm.start(now: t0)
        response = Fixture.response(.securityNegotiation, transit: false, statSN: 0)
        response.versionActive = 1
        expectFailure(sm.receivedLoginResponse(response), .unsupportedVersion, .session, "chose iSCSI version 1; we only speak version 0")
    }

    @Test func tsihMustBeAssignedForANewSessionAndEchoedForAnExistingOne() {
        var sm = LoginStateMachine(configuration: Fixture.configuration())
        throughSecurity(&sm)
        expectFailure(
            sm.receivedLoginResponse(
                Fixture.response(.operationalNegotiation, transit: true, next: .fullFeaturePhase, statSN: 11, Fixture.operationalAnswers)
            ),
            .protocolViolation, .connection, "completed the login without assigning a TSIH"
        )

        sm = LoginStateMachine(configuration: Fixture.configuration(tsih: 3))
        _ = sm.start(now: t0)
        expectFailure(
            sm.receivedLoginResponse(Fixture.response(.securityNegotiation, transit: false, statSN: 0, tsih: 4, text("AuthMethod=None"))),
            .protocolViolation, .connection, "answered with TSIH 4 for our session 3"
        )
    }

    @Test func requestsKeepTheInitialCmdSNAndEchoTheSessionIdentity() {
        var sm = LoginStateMachine(configuration: Fixture.configuration(tsih: 3))
        guard case .sendLoginRequest(let first) = sm.start(now: t0) else {
            Issue.record("no request")
            return
        }
        #expect(first.cmdSN == Fixture.cmdSN)
        #expect(first.tsih == 3)
        #expect(first.connectionID == 1)
        guard
            case .sendLoginRequest(let second) = sm.receivedLoginResponse(
                Fixture.response(.securityNegotiation, transit: true, next: .operationalNegotiation, statSN: 77, tsih: 3, text("AuthMethod=None"))
            )
        else {
            Issue.record("no second request")
            return
        }
        #expect(second.cmdSN == Fixture.cmdSN)
        #expect(second.expStatSN == 78)
        #expect(second.isid == Fixture.isid)
    }

    @Test func unexpectedPDUDuringLoginIsAViolation() {
        var sm = LoginStateMachine(configuration: Fixture.configuration())
        _ = sm.start(now: t0)
        expectFailure(
            sm.receivedPDU(opcode: .nopIn), .protocolViolation, .connection,
            "target \(Fixture.target) sent a NOP-In PDU during login; only Login Responses are allowed"
        )
        #expect(sm.receivedPDU(opcode: .reject) == .wait)
    }

    @Test func invalidProposalFailsAtStart() {
        var proposal = OperationalProposal()
        proposal.maxBurstLength = 100
        var sm = LoginStateMachine(configuration: Fixture.configuration(proposal: proposal))
        expectFailure(sm.start(now: t0), .invalidArgument, .session, "MaxBurstLength=100 is outside 512...16777215")
    }

    // MARK: - Timeout

    @Test func timerBeforeTheDeadlineRearmsAndAfterItFails() {
        var sm = LoginStateMachine(configuration: Fixture.configuration())
        _ = sm.start(now: t0)
        #expect(sm.timerFired(now: t0 + .seconds(4)) == .armTimer(remaining: .seconds(11)))
        #expect(sm.timerFired(now: t0 + .milliseconds(14_999)) == .armTimer(remaining: .milliseconds(1)))
        expectFailure(
            sm.timerFired(now: t0 + .seconds(15)), .timeout, .connection,
            "login to \(Fixture.target) timed out after 15 s in the security negotiation stage, waiting for the AuthMethod answer"
        )
        #expect(sm.timerFired(now: t0 + .seconds(16)) == .wait)
    }

    @Test func timeoutNamesTheStageItWasStuckIn() {
        var configuration = Fixture.configuration(authentication: .chap(Self.alice, mutual: nil))
        configuration.timeout = .milliseconds(2500)
        var sm = LoginStateMachine(configuration: configuration)
        _ = sm.start(now: t0)
        _ = sm.receivedLoginResponse(Fixture.response(.securityNegotiation, transit: false, statSN: 1, text("AuthMethod=CHAP")))
        expectFailure(
            sm.timerFired(now: t0 + .seconds(3)), .timeout, .connection,
            "timed out after 2500 ms in the security negotiation stage, waiting for the CHAP challenge"
        )

        var operational = LoginStateMachine(configuration: Fixture.configuration())
        throughSecurity(&operational)
        expectFailure(operational.timerFired(now: t0 + .seconds(20)), .timeout, .connection, "in the operational negotiation stage")
    }
}
