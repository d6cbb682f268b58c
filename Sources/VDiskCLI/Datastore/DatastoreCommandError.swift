// The one-line failure every datastore and disk command ends with, and its exit status.

import ArgumentParser
import BlockDevice
import Datastore

/// A failure printed as one line on stderr; the exit status tells its class.
///
/// The status comes from vdiskctl's one table, `CLIExitCode`.
struct DatastoreCommandError: Error, CustomStringConvertible {
    static let failure = CLIExitCode.failure
    static let usage = CLIExitCode.usage
    static let deviceError = CLIExitCode.deviceError
    static let tryAgain = CLIExitCode.timeout
    static let refused = CLIExitCode.refused

    var message: String
    var exitCode: ExitCode

    init(_ message: String, exitCode: ExitCode = failure) {
        self.message = message
        self.exitCode = exitCode
    }

    var description: String { message }

    /// The line and status for any error a command can meet.
    init(describing error: any Error) {
        switch error {
        case let error as DatastoreCommandError:
            self = error
        case let error as CLIError:
            // The bench runner, shared with `target bench`, reports bad arguments this way.
            self.init(error.message, exitCode: error.exitCode)
        default:
            self.init("\(error)", exitCode: CLIExitCode.of(error))
        }
        // One line, whatever an underlying error put in its text.
        message = message.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
