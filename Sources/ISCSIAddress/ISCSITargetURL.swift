// Target URLs in libiscsi's form, for both engines, the daemon and the CLI:
// iscsi://[user[%password]@]host[:port]/IQN/LUN[?key=value&...], with the keys
// target_user and target_password (mutual CHAP), chap_algorithms (the CHAP_A offer,
// strongest first) and header_digest (the libiscsi engine's HeaderDigest offer).

/// A parsed `iscsi://` URL naming one LUN of one target.
///
/// The password may sit in the URL as libiscsi allows, taken as written after the first
/// '%' (the last '@' ends it, so a secret may hold '@'); callers should prefer a secret
/// file or an environment variable so it stays out of shell history. `description` never
/// shows a secret. The parser reads only the string: unlike libiscsi's own, it never
/// consults `LIBISCSI_CHAP_*` environment variables.
public struct ISCSITargetURL: Sendable, Hashable, CustomStringConvertible {
    /// The HeaderDigest offer `?header_digest=` asks for.
    public enum HeaderDigestOffer: String, Sendable, Hashable, CaseIterable {
        case none = "none"
        case crc32c = "crc32c"
        /// Offer "CRC32C,None": the target chooses, preferring CRC32C.
        case crc32cOrNone = "crc32c-none"
        /// Offer "None,CRC32C": the target chooses, preferring none.
        case noneOrCRC32C = "none-crc32c"
    }

    /// Flat LUN addressing reaches 16383, and libiscsi takes no more (SAM-5 §4.7.7).
    public static let maximumLUN: UInt64 = 16383
    static let knownKeys = ["target_user", "target_password", "chap_algorithms", "header_digest"]

    public var endpoint: ISCSIEndpoint
    public var targetName: String
    public var lun: UInt64
    /// One-way CHAP: the name and secret the initiator answers the target's challenge with.
    public var user: String?
    public var password: String?
    /// Mutual CHAP: the name and secret the target must answer our challenge with.
    public var targetUser: String?
    public var targetPassword: String?
    /// The CHAP algorithm names to offer, strongest first, lowercased; nil: the engine's default.
    public var chapAlgorithms: [String]?
    public var headerDigest: HeaderDigestOffer?

    public init(
        endpoint: ISCSIEndpoint,
        targetName: String,
        lun: UInt64,
        user: String? = nil,
        password: String? = nil,
        targetUser: String? = nil,
        targetPassword: String? = nil,
        chapAlgorithms: [String]? = nil,
        headerDigest: HeaderDigestOffer? = nil
    ) {
        self.endpoint = endpoint
        self.targetName = targetName
        self.lun = lun
        self.user = user
        self.password = password
        self.targetUser = targetUser
        self.targetPassword = targetPassword
        self.chapAlgorithms = chapAlgorithms
        self.headerDigest = headerDigest
    }

    /// Parses `text`; the error names the part that is wrong and never repeats a secret.
    public init(parsing text: String) throws(ISCSIAddressError) {
        let input = Self.redacted(text)
        func bad(_ part: ISCSIAddressError.Part, _ reason: String) -> ISCSIAddressError {
            ISCSIAddressError(input: input, part: part, reason: reason)
        }
        let scheme = "iscsi://"
        guard text.hasPrefix(scheme) else {
            throw bad(.scheme, "it must start with \(scheme) (form: iscsi://[user[%password]@]host[:port]/IQN/LUN)")
        }
        var rest = Substring(text.dropFirst(scheme.count))
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        // The last '@' ends the credentials: a secret may itself contain '@' (an IQN cannot).
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let split = credentials.firstIndex(of: "%") {
                user = String(credentials[..<split])
                password = String(credentials[credentials.index(after: split)...])
            } else {
                user = String(credentials)
            }
            guard user?.isEmpty == false else { throw bad(.credentials, "the CHAP user name before '@' is empty") }
        }
        guard let slash = rest.firstIndex(of: "/") else { throw bad(.targetName, "there is no target IQN after the host") }
        endpoint = try ISCSIEndpoint(parsing: rest[..<slash], input: input, defaultPort: ISCSIEndpoint.defaultPort, allowsPortZero: false)
        let path = rest[rest.index(after: slash)...]
        guard let lunSlash = path.lastIndex(of: "/") else { throw bad(.lun, "there is no LUN after the target IQN") }
        targetName = String(path[..<lunSlash])
        guard !targetName.isEmpty else { throw bad(.targetName, "the target IQN is empty") }
        guard targetName.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":") }) else {
            throw bad(.targetName, "'\(targetName)' is not an iSCSI name (letters, digits, '.', '-' and ':' only)")
        }
        let lunText = path[path.index(after: lunSlash)...]
        guard lunText.allSatisfy({ $0 >= "0" && $0 <= "9" }), let number = UInt64(lunText), number <= Self.maximumLUN else {
            throw bad(.lun, "the LUN '\(lunText)' is not a number from 0 to \(Self.maximumLUN)")
        }
        lun = number
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            guard Self.knownKeys.contains(key) else {
                throw bad(.query(key), "the query key '\(key)' is unknown (known: \(Self.knownKeys.joined(separator: ", ")))")
            }
            guard parts.count == 2, !parts[1].isEmpty else { throw bad(.query(key), "\(key) has no value") }
            let value = String(parts[1])
            switch key {
            case "target_user":
                targetUser = value
            case "target_password":
                targetPassword = value
            case "chap_algorithms":
                let names = value.split(separator: ",", omittingEmptySubsequences: false).map { String($0.filter { $0 != " " }).lowercased() }
                guard !names.contains(""), Set(names).count == names.count else {
                    throw bad(.query(key), "chap_algorithms must list algorithm names once each, separated by commas, not '\(value)'")
                }
                chapAlgorithms = names
            default:
                guard let offer = HeaderDigestOffer(rawValue: value) else {
                    let known = HeaderDigestOffer.allCases.map(\.rawValue).joined(separator: ", ")
                    throw bad(.query(key), "header_digest must be one of \(known), not '\(value)'")
                }
                headerDigest = offer
            }
        }
        guard (targetUser == nil) == (targetPassword == nil) else {
            throw bad(.query(targetUser == nil ? "target_password" : "target_user"), "mutual CHAP needs both target_user and target_password")
        }
        if targetUser != nil, user == nil || password == nil {
            throw bad(.credentials, "mutual CHAP (target_user) also needs the initiator's user%password")
        }
    }

    /// The URL without its secrets, fit for logs and messages.
    public var description: String {
        var text = "iscsi://"
        if let user { text += "\(user)@" }
        text += "\(endpoint)/\(targetName)/\(lun)"
        var arguments: [String] = []
        if let targetUser { arguments.append("target_user=\(targetUser)") }
        if let chapAlgorithms { arguments.append("chap_algorithms=\(chapAlgorithms.joined(separator: ","))") }
        if let headerDigest { arguments.append("header_digest=\(headerDigest.rawValue)") }
        if !arguments.isEmpty { text += "?" + arguments.joined(separator: "&") }
        return text
    }

    /// `text` with the password between '%' and the last '@', and the whole query (it may
    /// hold target_password), replaced: messages about input that does not parse must
    /// not carry secrets.
    public static func redacted(_ text: String) -> String {
        var text = text
        if let query = text.firstIndex(of: "?") { text = String(text[..<query]) + "?***" }
        guard let schemeEnd = text.firstRange(of: "://"), let at = text.lastIndex(of: "@"), at > schemeEnd.upperBound,
            let percent = text[schemeEnd.upperBound..<at].firstIndex(of: "%")
        else { return text }
        return String(text[...percent]) + "***" + String(text[at...])
    }
}
