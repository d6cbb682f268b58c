// The target login responder event by event: names and ACL, AuthMethod None and CHAP
// (MD5, SHA-256, mutual, wrong secrets), operational answers and the status codes.

import ISCSI
import NIOCore
import TestSupport
import Testing
import TestSupport

@Suite struct TargetLoginStateMachineTests {
    typealias R = LoginRequests

    func machine(_ policy: TargetAccessPolicy = TargetAccessPolicy()) -> TargetLoginStateMachine {
        TargetLoginStateMachine(
            configuration: TargetLoginConfiguration(targets: [R.target: policy], limits: TargetOperationalLimits(maxBurstLength: 131_072, firstBurstLength: 65536)),
            initialStatSN: 100,
            generator: SeededGenerator(seed: 7)
        )
    }

    func sent(_ action: TargetLoginStateMachine.Action) -> LoginResponse? {
        if case .send(let response) = action { return response }
        return nil
    }

    func refusal(_ action: TargetLoginStateMachine.Action) -> LoginStatus? {
        if case .refuse(let response, _) = action { return R.status(response) }
        return nil
    }

    @Test func noAuthenticationThenOperationalNegotiationThenAdmission() throws {
        var login = machine()
        let first = login.received(R.request(.securityNegotiation, to: .operationalNegotiation, [
            ("InitiatorName", R.initiator), ("TargetName", R.target), ("SessionType", "Normal"), ("AuthMethod", "None"),
        ]))
        let response = try #require(sent(first))
        #expect(response.transit && response.nextStage == .operationalNegotiation)
        #expect(response.statSN == 100 && response.expCmdSN == 10)
        #expect(R.keys(response)["AuthMethod"] == "None")
        #expect(R.keys(response)["TargetPortalGroupTag"] == "1")

        let second = login.received(R.request(.operationalNegotiation, to: .fullFeaturePhase, [
            ("HeaderDigest", "CRC32C,None"), ("DataDigest", "None"), ("MaxRecvDataSegmentLength", "65536"),
            ("MaxBurstLength", "1048576"), ("FirstBurstLength", "262144"), ("InitialR2T", "No"),
            ("ImmediateData", "Yes"), ("MaxOutstandingR2T", "4"), ("MaxConnections", "8"), ("ErrorRecoveryLevel", "2"),
            ("DefaultTime2Wait", "0"), ("X-com.example.Private", "1"), ("OFMarker", "No"),
        ]))
        guard case .admit(let candidate) = second else {
            Issue.record("expected an admission, got \(second)")
            return
        }
        #expect(candidate.initiatorName == R.initiator && candidate.targetName == R.target && candidate.requestedTSIH == 0)
        guard case .loggedIn(let final, let result) = login.admitted(tsih: 42) else {
            Issue.record("expected a logged-in action")
            return
        }
        let keys = R.keys(final)
        #expect(final.transit && final.nextStage == .fullFeaturePhase && final.tsih == 42 && final.statSN == 101)
        #expect(keys["HeaderDigest"] == "CRC32C")
        #expect(keys["MaxBurstLength"] == "131072")
        #expect(keys["FirstBurstLength"] == "65536")
        #expect(keys["InitialR2T"] == "No")
        #expect(keys["MaxConnections"] == "1")
        #expect(keys["ErrorRecoveryLevel"] == "0")
        #expect(keys["DefaultTime2Wait"] == "2")
        #expect(keys["X-com.example.Private"] == "NotUnderstood")
        #expect(keys["OFMarker"] == "No")
        #expect(keys["MaxRecvDataSegmentLength"] == "262144")
        #expect(result.parameters.initiatorMaxRecvDataSegmentLength == 65536)
        #expect(result.parameters.maxOutstandingR2T == 4)
        #expect(result.parameters.headerDigest == .crc32c)
        #expect(result.expCmdSN == 10 && result.nextStatSN == 102 && result.tsih == 42)
        #expect(result.initiatorPortName == R.initiator + ",i,0x801234567800")
    }

    @Test(arguments: [CHAPAlgorithm.md5, .sha256])
    func chapAcceptsTheRightSecretAndAnswersMutualCHAP(algorithm: CHAPAlgorithm) throws {
        let policy = TargetAccessPolicy(
            chap: CHAPCredentials(user: "alice", secret: TestSecrets.stateMachineInitiator),
            mutualCHAP: CHAPCredentials(user: "target", secret: TestSecrets.stateMachineTarget)
        )
        var login = machine(policy)
        let first = try #require(sent(login.received(R.request(.securityNegotiation, to: .operationalNegotiation, transit: false, [
            ("InitiatorName", R.initiator), ("TargetName", R.target), ("AuthMethod", "CHAP,None"),
        ]))))
        #expect(R.keys(first)["AuthMethod"] == "CHAP")
        let challengeResponse = try #require(sent(login.received(R.request(.securityNegotiation, to: .operationalNegotiation, transit: false, [
            ("CHAP_A", "\(algorithm.rawValue)"),
        ]))))
        let keys = R.keys(challengeResponse)
        #expect(keys["CHAP_A"] == "\(algorithm.rawValue)")
        let identifier = try #require(keys["CHAP_I"].flatMap(TextValue.number))
        let challenge = try #require(keys["CHAP_C"].flatMap(TextValue.binary))
        #expect(challenge.count >= 16)

        let answer = algorithm.response(identifier: UInt8(identifier), secret: Array(TestSecrets.stateMachineInitiator.utf8), challenge: challenge)
        let ourChallenge: [UInt8] = Array(0..<16)
        let proof = try #require(sent(login.received(R.request(.securityNegotiation, to: .operationalNegotiation, [
            ("CHAP_N", "alice"), ("CHAP_R", TextValue.hex(answer)), ("CHAP_I", "9"), ("CHAP_C", TextValue.hex(ourChallenge)),
        ]))))
        #expect(proof.transit && proof.nextStage == .operationalNegotiation)
        let expected = algorithm.response(identifier: 9, secret: Array(TestSecrets.stateMachineTarget.utf8), challenge: ourChallenge)
        #expect(R.keys(proof)["CHAP_N"] == "target")
        #expect(R.keys(proof)["CHAP_R"].flatMap(TextValue.binary) == expected)
    }

    @Test func aWrongCHAPSecretIsAuthenticationFailure() throws {
        var login = machine(TargetAccessPolicy(chap: CHAPCredentials(user: "alice", secret: TestSecrets.stateMachineInitiator)))
        _ = login.received(R.request(.securityNegotiation, to: .operationalNegotiation, transit: false, [
            ("InitiatorName", R.initiator), ("TargetName", R.target), ("AuthMethod", "CHAP"),
        ]))
        let keys = try R.keys(#require(sent(login.received(R.request(.securityNegotiation, to: .operationalNegotiation, transit: false, [("CHAP_A", "5")])))))
        let challenge = try #require(keys["CHAP_C"].flatMap(TextValue.binary))
        let wrong = CHAPAlgorithm.md5.response(identifier: UInt8(keys["CHAP_I"].flatMap(TextValue.number) ?? 0), secret: Array("guess".utf8), challenge: challenge)
        let action = login.received(R.request(.securityNegotiation, to: .operationalNegotiation, [("CHAP_N", "alice"), ("CHAP_R", TextValue.hex(wrong))]))
        #expect(refusal(action) == .authenticationFailed)
        #expect(refusal(action)?.description == "0x0201")
    }

    @Test func mutualCHAPWithoutAMutualUserIsRefused() throws {
        var login = machine(TargetAccessPolicy(chap: CHAPCredentials(user: "alice", secret: TestSecrets.stateMachineInitiator)))
        _ = login.received(R.request(.securityNegotiation, to: .operationalNegotiation, transit: false, [
            ("InitiatorName", R.initiator), ("TargetName", R.target), ("AuthMethod", "CHAP"), ("CHAP_A", "5"),
        ]))
        // CHAP_A arrived with AuthMethod: the machine answered both; find the challenge it issued.
        var probe = machine(TargetAccessPolicy(chap: CHAPCredentials(user: "alice", secret: TestSecrets.stateMachineInitiator)))
        let keys = try R.keys(#require(sent(probe.received(R.request(.securityNegotiation, to: .operationalNegotiation, transit: false, [
            ("InitiatorName", R.initiator), ("TargetName", R.target), ("AuthMethod", "CHAP"), ("CHAP_A", "5"),
        ])))))
        let challenge = try #require(keys["CHAP_C"].flatMap(TextValue.binary))
        let answer = CHAPAlgorithm.md5.response(identifier: UInt8(keys["CHAP_I"].flatMap(TextValue.number) ?? 0), secret: Array(TestSecrets.stateMachineInitiator.utf8), challenge: challenge)
        let action = login.received(R.request(.securityNegotiation, to: .operationalNegotiation, [
            ("CHAP_N", "alice"), ("CHAP_R", TextValue.hex(answer)), ("CHAP_I", "1"), ("CHAP_C", "0x00112233445566778899aabbccddeeff"),
        ]))
        #expect(refusal(action) == .authenticationFailed)
    }

    @Test func statusCodesForNamesAccessAndStages() {
        var missing = machine()
        #expect(refusal(missing.received(R.request(.securityNegotiation, to: .operationalNegotiation, [("TargetName", R.target)]))) == .missingParameter)

        var noTarget = machine()
        #expect(refusal(noTarget.received(R.request(.securityNegotiation, to: .operationalNegotiation, [("InitiatorName", R.initiator)]))) == .missingParameter)

        var unknown = machine()
        #expect(refusal(unknown.received(R.request(.securityNegotiation, to: .operationalNegotiation, [
            ("InitiatorName", R.initiator), ("TargetName", "iqn.2025-01.io.vdiskd:nobody"),
        ]))) == .targetNotFound)

        var denied = machine(TargetAccessPolicy(allowedInitiators: ["iqn.2025-01.io.vdiskd:someone-else"]))
        #expect(refusal(denied.received(R.request(.securityNegotiation, to: .operationalNegotiation, [
            ("InitiatorName", R.initiator), ("TargetName", R.target),
        ]))) == .notAuthorized)

        var skipped = machine(TargetAccessPolicy(chap: CHAPCredentials(user: "alice", secret: TestSecrets.stateMachineInitiator)))
        #expect(refusal(skipped.received(R.request(.operationalNegotiation, to: .fullFeaturePhase, [
            ("InitiatorName", R.initiator), ("TargetName", R.target),
        ]))) == .authenticationFailed)

        var noneOffered = machine(TargetAccessPolicy(chap: CHAPCredentials(user: "alice", secret: TestSecrets.stateMachineInitiator)))
        #expect(refusal(noneOffered.received(R.request(.securityNegotiation, to: .operationalNegotiation, [
            ("InitiatorName", R.initiator), ("TargetName", R.target), ("AuthMethod", "None"),
        ]))) == .authenticationFailed)

        var badType = machine()
        #expect(refusal(badType.received(R.request(.securityNegotiation, to: .operationalNegotiation, [
            ("InitiatorName", R.initiator), ("SessionType", "Sideways"),
        ]))) == .sessionTypeNotSupported)

        var version = machine()
        var request = R.request(.securityNegotiation, to: .operationalNegotiation, [("InitiatorName", R.initiator), ("TargetName", R.target)])
        request.versionMin = 2
        request.versionMax = 2
        #expect(refusal(version.received(request)) == .unsupportedVersion)

        var other = machine()
        #expect(refusal(other.receivedOtherPDU(.scsiCommand)) == .invalidDuringLogin)
    }

    @Test func discoverySessionsCallSessionKeysIrrelevantAndAreRefusedByTheRegistry() throws {
        var login = machine()
        let action = login.received(R.request(.operationalNegotiation, to: .fullFeaturePhase, [
            ("InitiatorName", R.initiator), ("SessionType", "Discovery"), ("MaxBurstLength", "65536"), ("MaxRecvDataSegmentLength", "8192"),
        ]))
        guard case .admit(let candidate) = action else {
            Issue.record("expected admission, got \(action)")
            return
        }
        #expect(candidate.sessionType == .discovery && candidate.targetName == nil)
        guard case .refuse(let response, _) = login.refused(.outOfResources, reason: "test") else {
            Issue.record("expected a refusal")
            return
        }
        #expect(R.status(response) == .outOfResources)
        #expect(login.received(R.request(.operationalNegotiation, to: .fullFeaturePhase, [])) == .none)
    }

    @Test func continuedTextIsJoinedBeforeItIsAnswered() throws {
        var login = machine()
        let whole = ByteBuffer(textKeyValues: [TextKeyValue("InitiatorName", R.initiator), TextKeyValue("TargetName", R.target), TextKeyValue("AuthMethod", "None")])
        var first = R.request(.securityNegotiation, to: .operationalNegotiation, transit: false, [])
        first.continue = true
        first.data = whole.getSlice(at: 0, length: 20)!
        let ack = try #require(sent(login.received(first)))
        #expect(ack.data.readableBytes == 0 && !ack.transit)
        var second = R.request(.securityNegotiation, to: .operationalNegotiation, [])
        second.data = whole.getSlice(at: 20, length: whole.readableBytes - 20)!
        let response = try #require(sent(login.received(second)))
        #expect(R.keys(response)["AuthMethod"] == "None" && response.transit)
    }
}
