// One CHAP name and secret as a target stores it (tgt calls it an account)
// and a client presents it. Not ISCSI.CHAPCredentials: tests import both.

public struct CHAPAccount: Hashable, Sendable {
    public var user: String
    public var secret: String

    public init(user: String, secret: String) {
        self.user = user
        self.secret = secret
    }
}
