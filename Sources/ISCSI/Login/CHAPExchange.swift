// The initiator's side of CHAP in the security stage (RFC 7143 §12.1.3, RFC 1994):
// offer CHAP_A, answer the target's challenge, and for mutual CHAP challenge the
// target and check its proof.

/// One CHAP authentication, without I/O. Errors are `.authenticationFailed`
/// with `.session` scope: a wrong secret does not get better by reconnecting.
struct CHAPExchange {
    let credentials: CHAPCredentials
    let mutual: CHAPCredentials?
    let algorithms: [CHAPAlgorithm]
    /// Names the target in messages.
    let target: String

    /// The shortest target challenge we answer.
    static let minimumChallengeLength = 16

    /// Challenges our initiators sent for mutual CHAP (process-wide unless a test gives its own).
    let history: CHAPChallengeHistory

    private var algorithm: CHAPAlgorithm?
    private var ourIdentifier: UInt8 = 0
    private var ourChallenge: [UInt8] = []

    init(
        credentials: CHAPCredentials, mutual: CHAPCredentials?, algorithms: [CHAPAlgorithm], target: String,
        history: CHAPChallengeHistory = .shared
    ) {
        self.history = history
        self.credentials = credentials
        self.mutual = mutual
        self.algorithms = algorithms
        self.target = target
    }

    /// The CHAP_A offer, e.g. `CHAP_A=7,5`.
    func algorithmOffer() -> TextKeyValue {
        TextKeyValue("CHAP_A", algorithms.map { String($0.rawValue) }.joined(separator: ","))
    }

    /// Answers the target's CHAP_A, CHAP_I and CHAP_C with CHAP_N and CHAP_R,
    /// plus our own CHAP_I and CHAP_C when the target must prove itself too.
    mutating func respond(
        to pairs: [TextKeyValue],
        using generator: inout some RandomNumberGenerator
    ) throws(ISCSIError) -> [TextKeyValue] {
        let chosenText = try require("CHAP_A", in: pairs)
        // The target's only way to refuse algorithms: none of ours is acceptable to it. Every
        // algorithm the configuration allows was in the offer, so there is nothing to retry with.
        guard chosenText != "Reject" else {
            throw failure(
                "target \(target) refused every CHAP algorithm we offered (CHAP_A=\(algorithmOffer().value)); "
                    + "configure the algorithms it supports (e.g. md5)"
            )
        }
        guard let number = TextValue.number(chosenText), let chosen = CHAPAlgorithm(rawValue: UInt8(clamping: number)),
            number <= 255, algorithms.contains(chosen)
        else {
            throw failure(
                "target \(target) chose CHAP_A=\(chosenText), which is not among our offer \(algorithmOffer().value)"
            )
        }
        let identifierText = try require("CHAP_I", in: pairs)
        guard let identifier = TextValue.number(identifierText), identifier <= 255 else {
            throw failure("target \(target) sent CHAP_I=\(identifierText), not a number in 0...255")
        }
        let challengeText = try require("CHAP_C", in: pairs)
        guard let challenge = TextValue.binary(challengeText), !challenge.isEmpty else {
            throw failure("target \(target) sent a CHAP_C that is neither hex (0x...) nor base64 (0b...)")
        }
        // A short challenge lets whoever sees our answer search the secret offline far faster.
        guard challenge.count >= Self.minimumChallengeLength else {
            throw failure(
                "target \(target) sent a CHAP challenge of \(challenge.count) bytes; at least \(Self.minimumChallengeLength) are required, "
                    + "refusing to answer it"
            )
        }
        // A target that hands us a challenge we issued wants us to compute the answer it is
        // supposed to know itself (a reflection attack, RFC 7143 §9.2.1).
        guard !history.contains(challenge) else {
            throw failure(
                "target \(target) sent a CHAP challenge equal to one we issued for mutual CHAP; "
                    + "refusing it as a reflection attempt"
            )
        }
        algorithm = chosen
        let response = chosen.response(identifier: UInt8(identifier), secret: credentials.secret, challenge: challenge)
        var answer = [
            TextKeyValue("CHAP_N", credentials.user),
            TextKeyValue("CHAP_R", TextValue.hex(response)),
        ]
        guard mutual != nil else { return answer }

        // RFC 1994 wants challenges that are unpredictable and never repeated; as
        // long as the digest, and never under 16 bytes. Ours is recorded, so that a target
        // handing it back in a later login is caught above.
        ourIdentifier = UInt8.random(in: 0...255, using: &generator)
        repeat {
            ourChallenge = (0..<max(Self.minimumChallengeLength, chosen.digestLength)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        } while ourChallenge == challenge
        history.record(ourChallenge)
        answer.append(TextKeyValue("CHAP_I", String(ourIdentifier)))
        answer.append(TextKeyValue("CHAP_C", TextValue.hex(ourChallenge)))
        return answer
    }

    /// Whether the target still owes us its CHAP_N and CHAP_R.
    var expectsTargetProof: Bool { mutual != nil }

    /// Checks the target's CHAP_N and CHAP_R against the mutual credentials.
    func verifyTarget(_ pairs: [TextKeyValue]) throws(ISCSIError) {
        guard let mutual, let algorithm else { return }
        guard let name = pairs.last(where: { $0.key == "CHAP_N" })?.value,
            let proofText = pairs.last(where: { $0.key == "CHAP_R" })?.value
        else {
            throw failure(
                "target \(target) did not prove it knows the mutual secret for user \(mutual.user): "
                    + "it sent no CHAP_N and CHAP_R; check that mutual CHAP is configured on the target"
            )
        }
        guard name == mutual.user else {
            throw failure(
                "target \(target) answered mutual CHAP as user '\(name)', but we expect '\(mutual.user)'"
            )
        }
        let expected = algorithm.response(identifier: ourIdentifier, secret: mutual.secret, challenge: ourChallenge)
        guard let proof = TextValue.binary(proofText), Self.constantTimeEqual(proof, expected) else {
            throw failure(
                "target \(target) did not prove it knows the mutual secret for user \(mutual.user); "
                    + "check the target's outgoing (mutual) CHAP secret"
            )
        }
    }

    private func require(_ key: String, in pairs: [TextKeyValue]) throws(ISCSIError) -> String {
        guard let value = pairs.last(where: { $0.key == key })?.value else {
            throw failure("target \(target) did not send \(key) during CHAP for user \(credentials.user)")
        }
        return value
    }

    /// Compares without an early exit, so timing tells nothing about the proof.
    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    private func failure(_ message: String) -> ISCSIError {
        ISCSIError(.authenticationFailed, scope: .session, message)
    }
}
