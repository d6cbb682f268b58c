// The initiator's CHAP refusals (RFC 7143 §9.2.1): a target challenge shorter than 16
// bytes, and a target challenge that is one we issued for mutual CHAP (a reflection);
// and the target-side policy checks: short secrets and one secret for both directions.

import Testing

@testable import ISCSI

@Suite struct CHAPHygieneTests {
    static let alice = CHAPCredentials(user: "alice", secret: "alice-secret-1")
    static let target = CHAPCredentials(user: "target", secret: "target-secret-1")

    func challengeKeys(_ challenge: [UInt8]) -> [TextKeyValue] {
        [TextKeyValue("CHAP_A", "7"), TextKeyValue("CHAP_I", "3"), TextKeyValue("CHAP_C", TextValue.hex(challenge))]
    }

    @Test func aChallengeShorterThanSixteenBytesIsNotAnswered() throws {
        var generator = SystemRandomNumberGenerator()
        var short = CHAPExchange(credentials: Self.alice, mutual: nil, algorithms: [.sha256], target: "iqn.t", history: CHAPChallengeHistory(capacity: 4))
        let error = #expect(throws: ISCSIError.self) { try short.respond(to: challengeKeys(Array(0..<15)), using: &generator) }
        #expect(error?.code == .authenticationFailed)
        #expect(error?.message.contains("15 bytes") == true)
        var enough = CHAPExchange(credentials: Self.alice, mutual: nil, algorithms: [.sha256], target: "iqn.t", history: CHAPChallengeHistory(capacity: 4))
        let answer = try enough.respond(to: challengeKeys(Array(0..<16)), using: &generator)
        #expect(answer.map(\.key) == ["CHAP_N", "CHAP_R"])
    }

    @Test func aTargetHandingBackOurMutualChallengeIsRefusedAsAReflection() throws {
        let history = CHAPChallengeHistory(capacity: 4)
        var generator = SystemRandomNumberGenerator()
        // The first login: we challenge the target for mutual CHAP.
        var first = CHAPExchange(credentials: Self.alice, mutual: Self.target, algorithms: [.sha256], target: "iqn.rogue", history: history)
        let answer = try first.respond(to: challengeKeys(Array(repeating: 0x5A, count: 32)), using: &generator)
        let ours = try #require(answer.last { $0.key == "CHAP_C" }.flatMap { TextValue.binary($0.value) })
        #expect(ours.count >= 32)
        // The next login: the target challenges us with what we asked of it.
        var second = CHAPExchange(credentials: Self.alice, mutual: Self.target, algorithms: [.sha256], target: "iqn.rogue", history: history)
        let error = #expect(throws: ISCSIError.self) { try second.respond(to: challengeKeys(ours), using: &generator) }
        #expect(error?.message.contains("reflection") == true)
        // A fresh challenge is still answered.
        #expect(try second.respond(to: challengeKeys(Array(repeating: 0x33, count: 32)), using: &generator).count == 4)
    }

    @Test func theHistoryForgetsTheOldestPastItsCapacity() {
        let history = CHAPChallengeHistory(capacity: 2)
        history.record([1])
        history.record([2])
        history.record([3])
        #expect(!history.contains([1]) && history.contains([2]) && history.contains([3]))
    }

    @Test func targetPoliciesRefuseShortSecretsAndOneSecretBothWays() {
        func problem(_ policy: TargetAccessPolicy) -> String? {
            do {
                try policy.validate(target: "iqn.t")
                return nil
            } catch {
                return error.message
            }
        }
        #expect(problem(TargetAccessPolicy(chap: CHAPCredentials(user: "alice", secret: "abc"))) == "target iqn.t: the CHAP secret of user alice has 3 bytes; use at least 12")
        #expect(problem(TargetAccessPolicy(chap: CHAPCredentials(user: "alice", secret: "elevenbytes"))) != nil)
        #expect(problem(TargetAccessPolicy(chap: CHAPCredentials(user: "alice", secret: "twelve-bytes"))) == nil)
        #expect(problem(TargetAccessPolicy(chap: Self.alice, mutualCHAP: CHAPCredentials(user: "target", secret: "short"))) != nil)
        #expect(problem(TargetAccessPolicy(chap: Self.alice, mutualCHAP: CHAPCredentials(user: "target", secret: "alice-secret-1")))?.contains("different secret") == true)
        #expect(problem(TargetAccessPolicy(mutualCHAP: Self.target))?.contains("needs one-way CHAP") == true)
        #expect(problem(TargetAccessPolicy(chap: Self.alice, mutualCHAP: Self.target)) == nil)
        #expect(problem(TargetAccessPolicy(chap: CHAPCredentials(user: "alice", secret: "qwe")))?.contains("qwe") == false, "the secret stays out of the message")
    }
}
