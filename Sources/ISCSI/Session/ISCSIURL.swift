// Target URLs in libiscsi's form: iscsi://[user[%password]@]host[:port]/IQN/LUN[?target_user=U&target_password=P],
// plus our own chap_algorithms=md5,sha256 (the CHAP_A offer, strongest first).

/// A parsed `iscsi://` URL naming one LUN of one target.
///
/// The password may sit in the URL as libiscsi allows, but callers should
/// prefer a secret file or an environment variable so it stays out of shell
/// history; `description` never shows it.
public struct ISCSIURL: Sendable, Hashable, CustomStringConvertible {
    public var portal: TargetPortal
    public var targetName: String
    public var lun: UInt64
    public var user: String?
    public var password: String?
    /// Mutual CHAP: the name and secret the target must answer with (libiscsi's URL arguments).
    public var targetUser: String?
    public var targetPassword: String?
    /// The CHAP algorithms to offer, strongest first; nil offers `CHAPAlgorithm.defaultOffer`.
    public var chapAlgorithms: [CHAPAlgorithm]?

    public init(
        portal: TargetPortal,
        targetName: String,
        lun: UInt64,
        user: String? = nil,
        password: String? = nil,
        targetUser: String? = nil,
        targetPassword: String? = nil,
        chapAlgorithms: [CHAPAlgorithm]? = nil
    ) {
        self.portal = portal
        self.targetName = targetName
        self.lun = lun
        self.user = user
        self.password = password
        self.targetUser = targetUser
        self.targetPassword = targetPassword
        self.chapAlgorithms = chapAlgorithms
    }

    public init(parsing text: String) throws(ISCSIError) {
        func bad(_ why: String) -> ISCSIError {
            ISCSIError(
                .invalidArgument,
                scope: .session,
                "'\(ISCSIURL.redacted(text))' is not an iSCSI URL: \(why); expected iscsi://[user[%password]@]host[:port]/IQN/LUN"
            )
        }
        guard text.hasPrefix("iscsi://") else { throw bad("it does not start with iscsi://") }
        var rest = Substring(text.dropFirst("iscsi://".count))
        if let question = rest.firstIndex(of: "?") {
            for argument in rest[rest.index(after: question)...].split(separator: "&") {
                let parts = argument.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, !parts[1].isEmpty else { throw bad("argument '\(argument.prefix(while: { $0 != "=" }))' has no value") }
                switch parts[0] {
                case "target_user": targetUser = String(parts[1])
                case "target_password": targetPassword = String(parts[1])
                case "chap_algorithms":
                    do {
                        chapAlgorithms = try CHAPAlgorithm.parse(list: String(parts[1]))
                    } catch {
                        throw bad(error.message)
                    }
                default:
                    throw bad("unknown argument '\(parts[0])' (only target_user, target_password and chap_algorithms are understood)")
                }
            }
            rest = rest[..<question]
            guard (targetUser == nil) == (targetPassword == nil) else {
                throw bad("mutual CHAP needs both target_user and target_password")
            }
        }
        guard let slash = rest.firstIndex(of: "/") else { throw bad("no target name") }
        var authority = rest[..<slash]
        rest = rest[rest.index(after: slash)...]

        if let at = authority.lastIndex(of: "@") {
            let credentials = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if let percent = credentials.firstIndex(of: "%") {
                user = String(credentials[..<percent])
                password = String(credentials[credentials.index(after: percent)...])
            } else {
                user = String(credentials)
            }
            guard user?.isEmpty == false else { throw bad("the user name is empty") }
        }
        do {
            portal = try TargetPortal(parsing: String(authority))
        } catch {
            throw bad(error.message)
        }
        guard let lunSlash = rest.lastIndex(of: "/") else { throw bad("no LUN after the target name") }
        targetName = String(rest[..<lunSlash])
        guard !targetName.isEmpty else { throw bad("the target name is empty") }
        guard let lunNumber = UInt64(rest[rest.index(after: lunSlash)...]), lunNumber < 16384 else {
            throw bad("the LUN is not a number from 0 to 16383")
        }
        lun = lunNumber
    }

    public var description: String {
        var text = "iscsi://"
        if let user { text += password == nil ? "\(user)@" : "\(user)%***@" }
        text += "\(portal)/\(targetName)/\(lun)"
        var arguments: [String] = []
        if let targetUser { arguments.append("target_user=\(targetUser)&target_password=***") }
        if let chapAlgorithms { arguments.append("chap_algorithms=\(chapAlgorithms.map(\.name).joined(separator: ","))") }
        if !arguments.isEmpty { text += "?" + arguments.joined(separator: "&") }
        return text
    }

    /// The URL text with any password replaced, for messages about unparseable input.
    static func redacted(_ text: String) -> String {
        var text = text
        if let question = text.firstIndex(of: "?") {
            text = String(text[..<question]) + "?***"
        }
        guard let at = text.lastIndex(of: "@"),
              let percent = text[..<at].firstIndex(of: "%")
        else { return text }
        return String(text[...percent]) + "***" + String(text[at...])
    }

    /// The CHAP settings the URL names: none, one-way, or mutual.
    public var authentication: LoginAuthentication {
        guard let user else { return .none }
        let mutual = targetUser.flatMap { name in targetPassword.map { CHAPCredentials(user: name, secret: $0) } }
        return .chap(CHAPCredentials(user: user, secret: password ?? ""), mutual: mutual, algorithms: chapAlgorithms ?? CHAPAlgorithm.defaultOffer)
    }
}
