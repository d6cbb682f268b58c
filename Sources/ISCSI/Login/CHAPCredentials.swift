// A CHAP user name and secret (RFC 7143 §12.1.3). The secret never appears in a
// description, a log line or an error message.

/// A CHAP name and the secret that goes with it.
public struct CHAPCredentials: Sendable, Hashable, CustomStringConvertible {
    public var user: String
    /// Kept as bytes: RFC 7143 §12.1.3 secrets are binary, most are typed as text.
    public var secret: [UInt8]

    public init(user: String, secret: String) {
        self.user = user
        self.secret = Array(secret.utf8)
    }

    public init(user: String, secret: [UInt8]) {
        self.user = user
        self.secret = secret
    }

    /// RFC 7143 §9.2.1: secrets shorter than this are open to an offline search of the
    /// challenge and response seen on the wire; they are refused wherever one is configured.
    public static let minimumSecretLength = 12

    /// Names the user only.
    public var description: String { "CHAP user \(user)" }
}
