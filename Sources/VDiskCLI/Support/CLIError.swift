// A one-line error for the command line, with the exit code of its failure class.

import ArgumentParser

/// An error vdiskctl prints as one line on stderr before exiting with `exitCode`.
public struct CLIError: Error, CustomStringConvertible {
    public var message: String
    public var exitCode: ExitCode

    public init(_ message: String, exitCode: ExitCode = CLIExitCode.failure) {
        self.message = message
        self.exitCode = exitCode
    }

    public var description: String { message }
}

/// Exit codes by failure class, so scripts can tell them apart.
public enum CLIExitCode {
    /// Anything not listed below.
    public static let failure = ExitCode(1)
    /// Bad arguments or configuration (ArgumentParser also uses 64 for usage errors).
    public static let usage = ExitCode(64)
    /// The target could not be reached or the connection failed.
    public static let unavailable = ExitCode(69)
    /// The target refused us: authentication, authorization, not found.
    public static let refused = ExitCode(77)
    /// A timeout.
    public static let timeout = ExitCode(75)
    /// The device reported an error (SCSI failure, miscompare, medium error).
    public static let deviceError = ExitCode(74)
}
