// Target URLs in libiscsi's form: iscsi://[user[%password]@]host[:port]/IQN/LUN.

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

    public init(portal: TargetPortal, targetName: String, lun: UInt64, user: String? = nil, password: String? = nil) {
        self.portal = portal
        self.targetName = targetName
        self.lun = lun
        self.user = user
        self.password = password
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
        return text + "\(portal)/\(targetName)/\(lun)"
    }

    /// The URL text with any password replaced, for messages about unparseable input.
    static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"),
              let percent = text[..<at].firstIndex(of: "%")
        else { return text }
        return String(text[...percent]) + "***" + String(text[at...])
    }
}
