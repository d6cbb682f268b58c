// Reads CHAP secrets from a file or an environment variable, so they stay out of shell history.

import Control
import Foundation
import ISCSI

/// Where a secret comes from.
enum SecretSource {
    /// The secret from `file` (first line, trailing newline dropped) or the environment variable `variable`.
    static func read(file: String?, variable: String?, purpose: String) throws -> String? {
        if let file {
            try checkPrivate(file, purpose: purpose)
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CLIError("cannot read the \(purpose) file \(file)")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw CLIError("the \(purpose) file \(file) is not UTF-8 text")
            }
            let secret = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard !secret.isEmpty else { throw CLIError("the \(purpose) file \(file) is empty") }
            return secret
        }
        if let variable {
            guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
                throw CLIError("the environment variable \(variable) for the \(purpose) is not set")
            }
            return value
        }
        return nil
    }

    /// Refuses a secret file that is not a regular file, that group or others may read or
    /// write, or that belongs to another user than the one reading it.
    static func checkPrivate(_ file: String, purpose: String) throws {
        if let problem = SecretFilePrivacy.problem(file, name: "the \(purpose) file \(file)", missingHint: "name a file that exists") {
            throw CLIError(problem)
        }
    }
}
