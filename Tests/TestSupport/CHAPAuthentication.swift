// CHAP for one target: the initiator always proves itself; with mutual CHAP
// the target proves itself back with its own credentials.

public struct CHAPAuthentication: Hashable, Sendable {
    /// What the initiator must present (tgt: a bound account; istgt: the
    /// first pair of an `Auth` line).
    public var initiator: CHAPAccount
    /// What the target answers with under mutual CHAP (tgt: an `--outgoing`
    /// account; istgt: the second pair of an `Auth` line); nil for one-way.
    public var target: CHAPAccount?

    public init(initiator: CHAPAccount, target: CHAPAccount? = nil) {
        self.initiator = initiator
        self.target = target
    }

    public static func oneWay(user: String, secret: String) -> CHAPAuthentication {
        CHAPAuthentication(initiator: CHAPAccount(user: user, secret: secret))
    }

    public static func mutual(
        user: String,
        secret: String,
        targetUser: String,
        targetSecret: String
    ) -> CHAPAuthentication {
        CHAPAuthentication(
            initiator: CHAPAccount(user: user, secret: secret),
            target: CHAPAccount(user: targetUser, secret: targetSecret)
        )
    }

    public var isMutual: Bool {
        target != nil
    }
}
