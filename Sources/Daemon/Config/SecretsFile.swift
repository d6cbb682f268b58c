// Loads the CHAP secrets file and refuses it when anyone but its owner could read it.

import Foundation
import ISCSI
import TOMLKit

#if canImport(Glibc)
import Glibc
#endif

/// The secrets file: top-level `name = "secret"` pairs, referenced by `chap_secret` in the config.
public enum SecretsFile {
    /// Reads `path`, refusing it when missing, unreadable, not a regular file, or open to group or others.
    public static func load(path: String) throws(ConfigInvalid) -> [String: String] {
        func refuse(_ message: String, line: Int? = nil, key: String = "") -> ConfigInvalid {
            ConfigInvalid(errors: [ConfigError(file: path, line: line, key: key, message: message)])
        }
        if let problem = SecretFilePrivacy.problem(path, name: "the secrets file", missingHint: "create it, owned by the user vdiskd runs as, with chmod 600") {
            throw refuse(problem)
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw refuse("cannot read the secrets file (permission denied or not UTF-8); it must be readable by the user vdiskd runs as, with chmod 600")
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw refuse("not valid TOML: \(error.description)", line: error.source.begin.line)
        } catch {
            throw refuse("not valid TOML: \(error)")
        }
        let locator = TOMLKeyLocator(source: text)
        var secrets: [String: String] = [:]
        var errors: [ConfigError] = []
        for key in table.keys.sorted() {
            guard let secret = table[key]?.string else {
                errors.append(ConfigError(file: path, line: locator.line(section: "", index: nil, key: key), key: key, message: "wrong type: a secret must be a string"))
                continue
            }
            secrets[key] = secret
        }
        guard errors.isEmpty else { throw ConfigInvalid(errors: errors) }
        return secrets
    }
}
