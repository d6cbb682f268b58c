// CHAP (RFC 1994, RFC 7143 §12.1.3): known answers computed outside this code from
// H(id ‖ secret ‖ challenge), mutual proofs, and each way a target can fail it.

import Testing

@testable import ISCSI

@Suite struct CHAPTests {
    static let secret = Array("secret12345".utf8)
    static let challenge: [UInt8] = Array(0..<16)

    // Expected digests of 0x2a ‖ "secret12345" ‖ 00 01 … 0f, computed with Python's hashlib.
    @Test(arguments: [
        (CHAPAlgorithm.md5, "0xcaaa229fbcda2bfe28a685a5c9116a56"),
        (CHAPAlgorithm.sha1, "0xf33fafb6a702c72b9141719e9e747d6161b9bbad"),
        (CHAPAlgorithm.sha256, "0x9ec0e09f53e60611f6cb6c95c36dc020fd1821597d57c71c09e5567f35393022"),
    ])
    func knownAnswers(algorithm: CHAPAlgorithm, expected: String) {
        let response = algorithm.response(identifier: 42, secret: Self.secret, challenge: Self.challenge)
        #expect(TextValue.hex(response) == expected)
        #expect(response.count == algorithm.digestLength)
    }

    private func exchange(mutual: CHAPCredentials? = nil, algorithms: [CHAPAlgorithm] = CHAPAlgorithm.defaultOffer)
        -> CHAPExchange
    {
        CHAPExchange(
            credentials: CHAPCredentials(user: "alice", secret: "secret12345"),
            mutual: mutual,
            algorithms: algorithms,
            target: "iqn.t"
        )
    }

    @Test func offerListsAlgorithmsStrongestFirst() {
        #expect(exchange().algorithmOffer() == TextKeyValue("CHAP_A", "7,5"))
        #expect(exchange(algorithms: [.md5]).algorithmOffer() == TextKeyValue("CHAP_A", "5"))
    }

    @Test(arguments: ["0x000102030405060708090a0b0c0d0e0f", "0bAAECAwQFBgcICQoLDA0ODw=="])
    func oneWayAnswerAcceptsHexAndBase64Challenges(challenge: String) throws {
        var chap = exchange()
        var generator = CountingGenerator()
        let answer = try chap.respond(
            to: [TextKeyValue("CHAP_A", "5"), TextKeyValue("CHAP_I", "42"), TextKeyValue("CHAP_C", challenge)],
            using: &generator
        )
        #expect(answer == [TextKeyValue("CHAP_N", "alice"), TextKeyValue("CHAP_R", "0xcaaa229fbcda2bfe28a685a5c9116a56")])
        #expect(generator.counter == 0, "one-way CHAP draws no randomness")
    }

    @Test(arguments: [
        ([("CHAP_A", "6"), ("CHAP_I", "1"), ("CHAP_C", "0x01")], "chose CHAP_A=6, which is not among our offer 7,5"),
        ([("CHAP_A", "261"), ("CHAP_I", "1"), ("CHAP_C", "0x01")], "chose CHAP_A=261"),
        ([("CHAP_I", "1"), ("CHAP_C", "0x01")], "did not send CHAP_A"),
        ([("CHAP_A", "5"), ("CHAP_C", "0x01")], "did not send CHAP_I"),
        ([("CHAP_A", "5"), ("CHAP_I", "256"), ("CHAP_C", "0x01")], "CHAP_I=256, not a number in 0...255"),
        ([("CHAP_A", "5"), ("CHAP_I", "1")], "did not send CHAP_C"),
        ([("CHAP_A", "5"), ("CHAP_I", "1"), ("CHAP_C", "ab")], "neither hex"),
    ])
    func badChallengesFail(keys: [(String, String)], fragment: String) {
        var chap = exchange()
        var generator = CountingGenerator()
        let error = #expect(throws: ISCSIError.self) {
            try chap.respond(to: keys.map { TextKeyValue($0.0, $0.1) }, using: &generator)
        }
        #expect(error?.code == .authenticationFailed)
        #expect(error?.scope == .session)
        #expect(error?.message.contains(fragment) == true)
        #expect(error?.message.contains("secret12345") == false)
    }

    @Test func credentialsNeverShowTheSecret() {
        let credentials = CHAPCredentials(user: "alice", secret: "secret12345")
        #expect("\(credentials)" == "CHAP user alice")
        let auth = LoginAuthentication.chap(credentials, mutual: CHAPCredentials(user: "tgt", secret: "other-secret"))
        #expect(!"\(auth)".contains("secret12345"))
        #expect(!"\(auth)".contains("other-secret"))
    }
}
