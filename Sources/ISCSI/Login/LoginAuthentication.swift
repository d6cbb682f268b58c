// How the initiator authenticates in the security stage (RFC 7143 §6.3.2, §12).

/// The AuthMethod we offer and its credentials.
public enum LoginAuthentication: Sendable, Hashable, CustomStringConvertible {
    /// AuthMethod=None.
    case none
    /// AuthMethod=CHAP with our credentials; `mutual` also makes the target prove
    /// it knows a secret (mutual CHAP). `algorithms` is the CHAP_A offer.
    case chap(CHAPCredentials, mutual: CHAPCredentials?, algorithms: [CHAPAlgorithm] = CHAPAlgorithm.defaultOffer)

    public var description: String {
        switch self {
        case .none: "no authentication"
        case .chap(let credentials, let mutual, _):
            if let mutual { "mutual CHAP as \(credentials.user), target as \(mutual.user)" } else { "CHAP as \(credentials.user)" }
        }
    }
}
