// The target's side of CHAP in the security stage (RFC 7143 §12.1.3, RFC 1994):
// choose CHAP_A, issue CHAP_I and CHAP_C, check CHAP_N and CHAP_R, and answer the
// initiator's own challenge for mutual CHAP.

/// One CHAP authentication of an initiator, without I/O.
///
/// Every failure is `LoginStatus.authenticationFailed` with a reason for the log;
/// the initiator only ever sees the status, so a wrong user and a wrong secret look
/// the same from outside.
struct CHAPResponder: Sendable {
    /// The credentials accepted; CHAP_N picks, and the first whose secret verifies wins.
    let accounts: [CHAPLoginAccount]
    let algorithms: [CHAPAlgorithm]

    private(set) var algorithm: CHAPAlgorithm?
    private var identifier: UInt8 = 0
    private var challenge: [UInt8] = []

    /// Why authentication failed, for the log.
    struct Failure: Error, Equatable {
        var reason: String
        /// The initiator answered with a secret we do not hold: a guess, for rate limiting.
        var wrongCredentials = false
    }

    init(credentials: CHAPCredentials, mutual: CHAPCredentials?, algorithms: [CHAPAlgorithm]) {
        self.init(accounts: [CHAPLoginAccount(credentials: credentials, mutual: mutual)], algorithms: algorithms)
    }

    init(accounts: [CHAPLoginAccount], algorithms: [CHAPAlgorithm]) {
        precondition(!accounts.isEmpty, "a CHAP responder needs credentials to check")
        self.accounts = accounts
        self.algorithms = algorithms
    }

    /// Answers the initiator's CHAP_A list with our choice and a fresh challenge.
    mutating func challenge(
        offer: String,
        using generator: inout some RandomNumberGenerator
    ) throws(Failure) -> [TextKeyValue] {
        guard let offered = TextValue.list(offer) else {
            throw Failure(reason: "CHAP_A=\(offer) is not a list")
        }
        // The initiator's order decides (RFC 7143 §6.2: the first offered value we support).
        let accepted = algorithms
        let choice = offered.compactMap { TextValue.number($0) }.compactMap { number -> CHAPAlgorithm? in
            guard number <= 255, let algorithm = CHAPAlgorithm(rawValue: UInt8(number)) else { return nil }
            return accepted.contains(algorithm) ? algorithm : nil
        }.first
        guard let choice else {
            throw Failure(reason: "none of CHAP_A=\(offer) is an algorithm we accept")
        }
        algorithm = choice
        identifier = UInt8.random(in: 0...255, using: &generator)
        // RFC 1994 wants unpredictable, never repeated challenges; as long as the digest, at least 16 bytes.
        challenge = (0..<max(16, choice.digestLength)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return [
            TextKeyValue("CHAP_A", String(choice.rawValue)),
            TextKeyValue("CHAP_I", String(identifier)),
            TextKeyValue("CHAP_C", TextValue.hex(challenge)),
        ]
    }

    /// Checks the initiator's CHAP_N and CHAP_R; returns the account that matched and, for
    /// mutual CHAP, our own CHAP_N and CHAP_R.
    func verify(_ pairs: [TextKeyValue]) throws(Failure) -> (account: CHAPLoginAccount, answer: [TextKeyValue]) {
        guard let algorithm else { throw Failure(reason: "CHAP_R before CHAP_A") }
        guard let name = pairs.last(where: { $0.key == "CHAP_N" })?.value,
            let responseText = pairs.last(where: { $0.key == "CHAP_R" })?.value
        else {
            throw Failure(reason: "no CHAP_N and CHAP_R in the answer to our challenge")
        }
        let named = accounts.filter { $0.credentials.user == name }
        guard !named.isEmpty else {
            throw Failure(reason: "CHAP user '\(name)' is not a configured user", wrongCredentials: true)
        }
        let response = TextValue.binary(responseText)
        let matched = named.first { account in
            let expected = algorithm.response(identifier: identifier, secret: account.credentials.secret, challenge: challenge)
            return response.map { Self.constantTimeEqual($0, expected) } ?? false
        }
        guard let account = matched else {
            throw Failure(reason: "wrong CHAP response for user '\(name)' (wrong secret)", wrongCredentials: true)
        }
        return (account, try mutualAnswer(pairs, account: account, algorithm: algorithm))
    }

    /// Our CHAP_N and CHAP_R when the initiator challenged us too; empty otherwise.
    private func mutualAnswer(_ pairs: [TextKeyValue], account: CHAPLoginAccount, algorithm: CHAPAlgorithm) throws(Failure) -> [TextKeyValue] {
        let mutual = account.mutual

        let theirIdentifier = pairs.last(where: { $0.key == "CHAP_I" })?.value
        let theirChallenge = pairs.last(where: { $0.key == "CHAP_C" })?.value
        guard theirIdentifier != nil || theirChallenge != nil else { return [] }
        guard let mutual else {
            throw Failure(reason: "the initiator asks for mutual CHAP, but no mutual user is configured")
        }
        guard let idText = theirIdentifier, let id = TextValue.number(idText), id <= 255,
            let challengeText = theirChallenge, let bytes = TextValue.binary(challengeText), !bytes.isEmpty
        else {
            throw Failure(reason: "mutual CHAP needs both CHAP_I (0...255) and a binary CHAP_C")
        }
        // Answering our own challenge back would let a man in the middle replay our proof (RFC 7143 §12.1.3).
        guard bytes != challenge else {
            throw Failure(reason: "the initiator's mutual challenge equals ours (reflection)")
        }
        let proof = algorithm.response(identifier: UInt8(id), secret: mutual.secret, challenge: bytes)
        return [TextKeyValue("CHAP_N", mutual.user), TextKeyValue("CHAP_R", TextValue.hex(proof))]
    }

    /// Compares without an early exit, so timing tells nothing about the secret.
    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
