// The CHAP_A hash algorithms (RFC 1994 §4.1; RFC 7143 §12.1.3; IANA "PPP
// Authentication Algorithms" numbers): the response is H(id ‖ secret ‖ challenge).

import Crypto

/// A CHAP digest algorithm, by its CHAP_A number.
public enum CHAPAlgorithm: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case md5 = 5
    case sha1 = 6
    case sha256 = 7

    /// Our default offer, strongest first: SHA-256, then MD5 for RFC 3720 targets.
    /// The target picks one from the list; a target that cannot handle its own pick
    /// (tgt 1.0.85 with SHA-256) needs an offer configured for it, e.g. `[.md5]`.
    public static let defaultOffer: [CHAPAlgorithm] = [.sha256, .md5]

    /// The names `parse(list:)` takes, as configuration and URLs spell them.
    public var name: String {
        switch self {
        case .md5: "md5"
        case .sha1: "sha1"
        case .sha256: "sha256"
        }
    }

    /// Parses a comma-separated offer such as "sha256,md5" (names as in `name`, any case,
    /// or CHAP_A numbers), strongest first as written; throws naming the bad entry.
    public static func parse(list text: String) throws(ISCSIError) -> [CHAPAlgorithm] {
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0.filter { $0 != " " }) }
        return try parse(names: names)
    }

    /// Parses a list of names (or CHAP_A numbers); empty, unknown or repeated entries are refused.
    public static func parse(names: [String]) throws(ISCSIError) -> [CHAPAlgorithm] {
        let known = allCases.map(\.name).joined(separator: ", ")
        guard !names.isEmpty else {
            throw ISCSIError(.invalidArgument, scope: .session, "the CHAP algorithm list is empty; name at least one of \(known)")
        }
        var algorithms: [CHAPAlgorithm] = []
        for raw in names {
            let name = raw.lowercased()
            guard let algorithm = allCases.first(where: { $0.name == name || String($0.rawValue) == name }) else {
                throw ISCSIError(.invalidArgument, scope: .session, "unknown CHAP algorithm '\(raw)'; known: \(known)")
            }
            guard !algorithms.contains(algorithm) else {
                throw ISCSIError(.invalidArgument, scope: .session, "CHAP algorithm \(algorithm.name) is listed twice")
            }
            algorithms.append(algorithm)
        }
        return algorithms
    }

    public var description: String {
        switch self {
        case .md5: "MD5"
        case .sha1: "SHA-1"
        case .sha256: "SHA-256"
        }
    }

    public var digestLength: Int {
        switch self {
        case .md5: 16
        case .sha1: 20
        case .sha256: 32
        }
    }

    /// The CHAP response: H(identifier ‖ secret ‖ challenge) (RFC 1994 §4.1).
    public func response(identifier: UInt8, secret: [UInt8], challenge: [UInt8]) -> [UInt8] {
        switch self {
        case .md5: Self.hash(Insecure.MD5(), identifier, secret, challenge)
        case .sha1: Self.hash(Insecure.SHA1(), identifier, secret, challenge)
        case .sha256: Self.hash(SHA256(), identifier, secret, challenge)
        }
    }

    private static func hash<H: HashFunction>(_ hasher: H, _ identifier: UInt8, _ secret: [UInt8], _ challenge: [UInt8])
        -> [UInt8]
    {
        var hasher = hasher
        withUnsafeBytes(of: identifier) { hasher.update(bufferPointer: $0) }
        secret.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        challenge.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return Array(hasher.finalize())
    }
}

