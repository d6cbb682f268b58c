// The downgrade attempt: a target that fails the initiator's SHA-256 CHAP answer must not
// get a second, MD5 answer. No real target refuses a correct answer on purpose (tgt 1.0.85
// does it by accident, see LoginIntegrationTests), so the fake plays the rogue target and
// counts what it was sent.

import ISCSI
import NIOCore
import Testing
import TestSupport

@Suite struct FakeTargetCHAPDowngradeTests {
    static let alice = CHAPCredentials(user: "alice", secret: TestSecrets.downgrade)

    @Test func aRefusedSHA256AnswerIsNotRetriedWithMD5() async throws {
        try await FakeTarget.run(login: .chapRefusingEveryResponse) { fake in
            var offer = fake.configuration()
            offer.authentication = .chap(Self.alice, mutual: nil, algorithms: [.sha256, .md5])
            let configuration = offer
            let error = try await BoundedWait.error("the refused CHAP login", within: BoundedWait.hangGuard) {
                _ = try await ISCSISession.connect(configuration)
            }
            expectISCSIError(error, .authenticationFailed, .session, "authentication failed")

            // connect returned, so any retry would already have reached the fake.
            #expect(fake.log.connections == 1, "one login, no second attempt")
            let keys = fake.log.pdus.compactMap { pdu -> [TextKeyValue]? in
                guard case .loginRequest(let request) = pdu else { return nil }
                var data = request.data
                return try? data.readTextKeyValues(limits: .login)
            }.flatMap { $0 }
            #expect(keys.filter { $0.key == "CHAP_A" }.map(\.value) == ["7,5"], "one offer, SHA-256 first")
            let answers = keys.filter { $0.key == "CHAP_R" }.map(\.value)
            #expect(answers.count == 1, "exactly one CHAP answer: \(answers)")
            // A SHA-256 answer is 32 bytes: "0x" and 64 hex digits; an MD5 one would be 16.
            #expect(answers.allSatisfy { $0.count == 2 + 2 * CHAPAlgorithm.sha256.digestLength }, "\(answers)")
        }
    }

    /// With MD5 alone configured (as for tgt), the one answer is MD5 and is not retried either.
    @Test func aRefusedMD5AnswerFailsOnceToo() async throws {
        try await FakeTarget.run(login: .chapRefusingEveryResponse) { fake in
            var offer = fake.configuration()
            offer.authentication = .chap(Self.alice, mutual: nil, algorithms: [.md5])
            let configuration = offer
            let error = try await BoundedWait.error("the refused CHAP login", within: BoundedWait.hangGuard) {
                _ = try await ISCSISession.connect(configuration)
            }
            expectISCSIError(error, .authenticationFailed, .session)
            #expect(fake.log.connections == 1)
        }
    }
}
