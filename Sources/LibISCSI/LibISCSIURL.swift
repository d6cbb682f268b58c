// Parsing of libiscsi-style target URLs:
// iscsi://[user[%password]@]host[:port]/IQN/LUN[?target_user=..&target_password=..&header_digest=..]

/// A target URL in libiscsi's form, parsed without consulting the environment.
///
/// libiscsi's own `iscsi_parse_full_url` also reads `LIBISCSI_CHAP_*`
/// environment variables, so a variable left in a daemon's environment would
/// silently add CHAP to every target; this parser only reads the string.
public struct LibISCSIURL: Sendable, Hashable, CustomStringConvertible {
    /// Host name or address; an IPv6 address without brackets.
    public var host: String
    public var port: Int
    public var targetName: String
    public var lun: Int
    /// One-way CHAP: the name and secret the initiator answers the target's challenge with.
    public var user: String?
    public var password: String?
    /// Mutual CHAP: the name and secret the target must answer our challenge with.
    public var targetUser: String?
    public var targetPassword: String?
    /// From `?header_digest=crc32c|none`; nil when the URL does not say.
    public var headerDigest: LibISCSIConfiguration.HeaderDigest?

    /// The iSCSI well-known port (RFC 7143 §13.1).
    public static let defaultPort = 3260
    /// libiscsi passes LUNs as a C int and encodes them with flat addressing up to 16383.
    public static let maximumLUN = 16383

    public init(
        host: String,
        port: Int = LibISCSIURL.defaultPort,
        targetName: String,
        lun: Int,
        user: String? = nil,
        password: String? = nil,
        targetUser: String? = nil,
        targetPassword: String? = nil,
        headerDigest: LibISCSIConfiguration.HeaderDigest? = nil
    ) {
        self.host = host
        self.port = port
        self.targetName = targetName
        self.lun = lun
        self.user = user
        self.password = password
        self.targetUser = targetUser
        self.targetPassword = targetPassword
        self.headerDigest = headerDigest
    }

    /// Parses `string`; throws `LibISCSIURLError` saying which part is wrong.
    public init(parsing string: String) throws {
        func fail(_ why: String) -> LibISCSIURLError {
            LibISCSIURLError(url: LibISCSIURL.redacted(string), reason: why)
        }
        let scheme = "iscsi://"
        guard string.hasPrefix(scheme) else {
            throw fail("it must start with \(scheme) (form: iscsi://[user[%password]@]host[:port]/IQN/LUN)")
        }
        var rest = Substring(string.dropFirst(scheme.count))
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var user: String?
        var password: String?
        // The last '@' ends the credentials: a secret may itself contain '@'.
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let split = credentials.firstIndex(of: "%") {
                user = String(credentials[..<split])
                password = String(credentials[credentials.index(after: split)...])
            } else {
                user = String(credentials)
            }
            if user?.isEmpty == true { throw fail("the CHAP user name before '@' is empty") }
        }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw fail("it needs exactly host[:port], a target IQN and a LUN separated by '/'")
        }
        let (host, port) = try Self.parseAuthority(parts[0], fail: fail)
        let targetName = String(parts[1])
        guard !targetName.isEmpty else { throw fail("the target IQN is empty") }
        guard let lun = Int(parts[2]), (0...Self.maximumLUN).contains(lun) else {
            throw fail("the LUN '\(parts[2])' is not a number from 0 to \(Self.maximumLUN)")
        }
        var targetUser: String?
        var targetPassword: String?
        var headerDigest: LibISCSIConfiguration.HeaderDigest?
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let keyValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(keyValue[0])
            let value = keyValue.count == 2 ? String(keyValue[1]) : ""
            switch key {
            case "target_user": targetUser = value
            case "target_password": targetPassword = value
            case "header_digest":
                switch value {
                case "crc32c": headerDigest = .crc32c
                case "none": headerDigest = LibISCSIConfiguration.HeaderDigest.none
                case "crc32c-none": headerDigest = .crc32cOrNone
                case "none-crc32c": headerDigest = .noneOrCRC32C
                default: throw fail("header_digest must be crc32c, none, crc32c-none or none-crc32c, not '\(value)'")
                }
            default:
                throw fail("the query key '\(key)' is unknown (known: target_user, target_password, header_digest)")
            }
        }
        if (targetUser == nil) != (targetPassword == nil) {
            throw fail("mutual CHAP needs both target_user and target_password")
        }
        if targetUser != nil, user == nil || password == nil {
            throw fail("mutual CHAP (target_user) also needs the initiator's user%password")
        }
        self.init(
            host: host,
            port: port,
            targetName: targetName,
            lun: lun,
            user: user,
            password: password,
            targetUser: targetUser,
            targetPassword: targetPassword,
            headerDigest: headerDigest
        )
    }

    private static func parseAuthority(
        _ authority: Substring,
        fail: (String) -> LibISCSIURLError
    ) throws -> (String, Int) {
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw fail("the IPv6 address lacks its ']'") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
                throw fail("unexpected '\(after)' after the IPv6 address")
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw fail("the host is empty") }
        var port = defaultPort
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw fail("the port '\(portText)' is not a number from 1 to 65535")
            }
            port = value
        }
        return (String(host), port)
    }

    /// "host:port", or "[v6]:port": the portal string libiscsi connects to.
    public var portal: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The URL with secrets left out, fit for logs and error messages.
    public var description: String {
        let credentials = user.map { "\($0)@" } ?? ""
        return "iscsi://\(credentials)\(portal)/\(targetName)/\(lun)"
    }

    /// `string` with anything between "://" and "@" past the user name, and any
    /// password query value, replaced: error messages must not carry secrets.
    static func redacted(_ string: String) -> String {
        var text = string
        if let query = text.firstIndex(of: "?") { text = String(text[..<query]) + "?…" }
        guard let schemeEnd = text.range(of: "://"), let at = text.lastIndex(of: "@"), at > schemeEnd.upperBound else {
            return text
        }
        let credentials = text[schemeEnd.upperBound..<at]
        let user = credentials.split(separator: "%", maxSplits: 1).first ?? ""
        return String(text[..<schemeEnd.upperBound]) + user + (credentials.contains("%") ? "%…" : "") + String(text[at...])
    }
}
