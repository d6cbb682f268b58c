// One CHAP name and secret, as configured on a target and given to a client.

public struct CHAPCredentials: Hashable, Sendable {
    public var user: String
    public var secret: String

    public init(user: String, secret: String) {
        self.user = user
        self.secret = secret
    }
}
