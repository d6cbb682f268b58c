// One set of CHAP credentials a target accepts: the initiator's name and secret, and the
// name and secret the target proves itself with when asked (mutual CHAP).

/// Credentials a target checks, with the mutual ones that go with them.
public struct CHAPLoginAccount: Sendable, Hashable {
    public var credentials: CHAPCredentials
    public var mutual: CHAPCredentials?

    public init(credentials: CHAPCredentials, mutual: CHAPCredentials? = nil) {
        self.credentials = credentials
        self.mutual = mutual
    }
}
