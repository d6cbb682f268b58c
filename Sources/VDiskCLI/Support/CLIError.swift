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
