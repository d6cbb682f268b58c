// CHAP for one target: the initiator always proves itself; with mutual CHAP
// the target proves itself back with its own credentials.

public struct CHAPAuthentication: Hashable, Sendable {
    /// What the initiator must present (tgt: a bound account; istgt: the
    /// first pair of an `Auth` line).
    public var initiator: CHAPCredentials
    /// What the target answers with under mutual CHAP (tgt: an `--outgoing`
    /// account; istgt: the second pair of an `Auth` line); nil for one-way.
    public var target: CHAPCredentials?

    public init(initiator: CHAPCredentials, target: CHAPCredentials? = nil) {
        self.initiator = initiator
        self.target = target
    }

    public static func oneWay(user: String, secret: String) -> CHAPAuthentication {
        CHAPAuthentication(initiator: CHAPCredentials(user: user, secret: secret))
    }

    public static func mutual(
        user: String,
        secret: String,
        targetUser: String,
        targetSecret: String
    ) -> CHAPAuthentication {
        CHAPAuthentication(
            initiator: CHAPCredentials(user: user, secret: secret),
            target: CHAPCredentials(user: targetUser, secret: targetSecret)
        )
    }

    public var isMutual: Bool {
        target != nil
    }
}
