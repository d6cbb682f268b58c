// What the native engine takes from a target URL: the portal to log in to, and the CHAP
// settings with the algorithm names turned into CHAP_A values.

import ISCSIAddress

extension ISCSITargetURL {
    /// The portal the URL names, with no portal group tag.
    public var portal: TargetPortal {
        TargetPortal(host: endpoint.host, port: endpoint.port)
    }

    /// The CHAP algorithms `?chap_algorithms=` offers, strongest first; nil when the URL
    /// names none. Throws for a name that is no CHAP algorithm.
    public func chapOffer() throws(ISCSIError) -> [CHAPAlgorithm]? {
        guard let chapAlgorithms else { return nil }
        do {
            return try CHAPAlgorithm.parse(names: chapAlgorithms)
        } catch {
            throw ISCSIError(.invalidArgument, scope: .session, "bad query key 'chap_algorithms' in '\(self)': \(error.message)")
        }
    }

    /// The CHAP settings the URL names: none, one-way, or mutual.
    public func authentication() throws(ISCSIError) -> LoginAuthentication {
        guard let user else { return .none }
        let mutual = targetUser.flatMap { name in targetPassword.map { CHAPCredentials(user: name, secret: $0) } }
        return .chap(CHAPCredentials(user: user, secret: password ?? ""), mutual: mutual, algorithms: try chapOffer() ?? CHAPAlgorithm.defaultOffer)
    }
}
