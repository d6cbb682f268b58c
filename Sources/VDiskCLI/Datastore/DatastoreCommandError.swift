// The one-line failure every datastore and disk command ends with, and its exit status.

import ArgumentParser
import BlockDevice
import Datastore

/// A failure printed as one line on stderr; the exit status tells its class.
///
/// Statuses follow sysexits(3): 64 bad usage, 74 device or metadata error, 75 try again
/// (busy), 77 refused (not found, exists, locked, fenced, no space), 1 anything else.
struct DatastoreCommandError: Error, CustomStringConvertible {
    static let failure = ExitCode(1)
    static let usage = ExitCode(64)
    static let deviceError = ExitCode(74)
    static let tryAgain = ExitCode(75)
    static let refused = ExitCode(77)

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
        case let error as DatastoreError:
            self.init(error.description, exitCode: Self.exitCode(for: error.code))
        case let error as BlockDeviceError:
            self.init(error.description, exitCode: Self.exitCode(for: error.code))
        case let error as CLIError:
            // The bench runner, shared with `target bench`, reports bad arguments this way.
            self.init(error.message, exitCode: error.exitCode)
        default:
            self.init("\(error)", exitCode: Self.failure)
        }
        // One line, whatever an underlying error put in its text.
        message = message.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    static func exitCode(for code: DatastoreError.Code) -> ExitCode {
        switch code {
        case .invalidArgument: usage
        case .notFound, .alreadyExists, .locked, .hostSlotsFull, .fenced, .readOnly, .noSpace, .notFormatted, .unsupportedVersion: refused
        case .busy: tryAgain
        case .corrupt, .device: deviceError
        default: failure
        }
    }

    static func exitCode(for code: BlockDeviceError.Code) -> ExitCode {
        switch code {
        case .invalidArgument, .outOfRange: usage
        case .fenced, .readOnly, .reservationConflict, .notSupported, .noSpace: refused
        case .busy, .timeout: tryAgain
        default: deviceError
        }
    }
}
