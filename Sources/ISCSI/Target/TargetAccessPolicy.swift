// Who may log in to one target: CHAP (one-way or mutual) and an ACL of initiator
// names (RFC 7143 §12.1.3 for CHAP; the ACL is ours, answered with 0x0202).

/// The authentication and authorization rules of one target.
public struct TargetAccessPolicy: Sendable, Hashable {
    /// The initiator must prove this name and secret (AuthMethod=CHAP). nil: AuthMethod=None.
    public var chap: CHAPCredentials?
    /// With `chap`: the target proves itself with this name and secret when the initiator asks.
    public var mutualCHAP: CHAPCredentials?
    /// Initiator IQNs allowed in; empty allows every initiator.
    public var allowedInitiators: Set<String>
    /// CHAP algorithms accepted, in our order of preference.
    public var chapAlgorithms: [CHAPAlgorithm]
    /// Further credentials accepted besides `chap` (a discovery session takes those of
    /// every target); the CHAP_N an initiator sends picks among them.
    public var additionalCHAP: [CHAPLoginAccount] = []

    /// Every set of credentials this policy accepts, `chap` first.
    public var chapAccounts: [CHAPLoginAccount] {
        (chap.map { [CHAPLoginAccount(credentials: $0, mutual: mutualCHAP)] } ?? []) + additionalCHAP
    }

    /// Whether an initiator must pass CHAP.
    public var requiresCHAP: Bool { chap != nil || !additionalCHAP.isEmpty }

    public init(
        chap: CHAPCredentials? = nil,
        mutualCHAP: CHAPCredentials? = nil,
        allowedInitiators: Set<String> = [],
        chapAlgorithms: [CHAPAlgorithm] = [.sha256, .md5]
    ) {
        self.chap = chap
        self.mutualCHAP = mutualCHAP
        self.allowedInitiators = allowedInitiators
        self.chapAlgorithms = chapAlgorithms
    }

    public func allows(initiator name: String) -> Bool {
        allowedInitiators.isEmpty || allowedInitiators.contains(name)
    }

    /// Refuses secrets shorter than `CHAPCredentials.minimumSecretLength`, mutual CHAP
    /// without one-way CHAP, and one secret for both directions (RFC 7143 §9.2.1), for `target`.
    public func validate(target: String) throws(ISCSIError) {
        func refuse(_ message: String) -> ISCSIError {
            ISCSIError(.invalidArgument, scope: .session, "target \(target): \(message)")
        }
        let minimum = CHAPCredentials.minimumSecretLength
        if let chap, chap.secret.count < minimum {
            throw refuse("the CHAP secret of user \(chap.user) has \(chap.secret.count) bytes; use at least \(minimum)")
        }
        guard let mutualCHAP else { return }
        guard let chap else {
            throw refuse("mutual CHAP (user \(mutualCHAP.user)) needs one-way CHAP too")
        }
        if mutualCHAP.secret.count < minimum {
            throw refuse("the mutual CHAP secret of user \(mutualCHAP.user) has \(mutualCHAP.secret.count) bytes; use at least \(minimum)")
        }
        if mutualCHAP.secret == chap.secret {
            throw refuse("the mutual CHAP secret of user \(mutualCHAP.user) equals the secret of \(chap.user); use a different secret for each direction")
        }
    }
}
