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
}
