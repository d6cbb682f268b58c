// What a finished helper command printed and how it ended.

import Foundation

public struct CommandResult: Sendable, CustomStringConvertible {
    public let commandLine: [String]
    public let status: ProcessExitStatus
    public let stdout: String
    public let stderr: String

    public var succeeded: Bool {
        status.isSuccess
    }

    /// stdout and stderr together, for assertions that do not care which.
    public var output: String {
        stdout + stderr
    }

    /// Returns self if the command succeeded, else an error naming the
    /// command with its stderr.
    @discardableResult
    public func check() throws(TestSupportError) -> CommandResult {
        guard succeeded else {
            throw TestSupportError(.commandFailed, "`\(Self.render(commandLine))` failed (\(status)): \(Self.summary(stderr, or: stdout))")
        }
        return self
    }

    public var description: String {
        "`\(Self.render(commandLine))` → \(status)\nstdout: \(stdout)\nstderr: \(stderr)"
    }

    static func render(_ commandLine: [String]) -> String {
        commandLine.map { $0.contains(" ") || $0.isEmpty ? "'\($0)'" : $0 }.joined(separator: " ")
    }

    static func summary(_ primary: String, or fallback: String) -> String {
        let text = primary.trimmingCharacters(in: .whitespacesAndNewlines)
        if !text.isEmpty {
            return "stderr: " + text
        }
        let other = fallback.trimmingCharacters(in: .whitespacesAndNewlines)
        return other.isEmpty ? "no output" : "stdout: " + other
    }
}
