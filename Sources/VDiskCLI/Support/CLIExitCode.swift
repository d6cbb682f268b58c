// vdiskctl's one table of exit codes: every command, whatever it talks to (a target, a
// datastore, the daemon), exits with the code of its failure's class (sysexits(3)).

import ArgumentParser
import BlockDevice
import Control
import Datastore
import ISCSI

/// Exit codes by failure class, so scripts can tell them apart. docs/DAEMON.md lists them.
public enum CLIExitCode {
    /// Anything not listed below.
    public static let failure = ExitCode(1)
    /// Bad arguments, configuration or params (ArgumentParser also uses 64 for usage errors).
    public static let usage = ExitCode(64)
    /// The peer could not be reached, or the connection to it failed: a target, the daemon.
    public static let unavailable = ExitCode(69)
    /// The device or the on-disk metadata reported an error (SCSI failure, medium error, corrupt).
    public static let deviceError = ExitCode(74)
    /// Try again: a timeout, or something busy.
    public static let timeout = ExitCode(75)
    /// Refused: authentication, permission, not found, exists, locked, fenced, read-only, no space.
    public static let refused = ExitCode(77)

    /// The class of any error a command can meet.
    public static func of(_ error: any Error) -> ExitCode {
        switch error {
        case let error as CLIError: error.exitCode
        case let error as DatastoreCommandError: error.exitCode
        case let error as ISCSIError: of(error.code)
        case let error as BlockDeviceError: of(error)
        case let error as DatastoreError: of(error.code)
        case let error as ControlClientError: of(error.code)
        default: failure
        }
    }

    static func of(_ code: ISCSIError.Code) -> ExitCode {
        switch code {
        case .authenticationFailed, .authorizationFailed, .targetNotFound, .targetRemoved: refused
        case .timeout: timeout
        case .connectFailed, .connectionClosed: unavailable
        case .invalidArgument: usage
        default: failure
        }
    }

    static func of(_ error: BlockDeviceError) -> ExitCode {
        if let underlying = error.underlying as? ISCSIError { return of(underlying.code) }
        switch error.code {
        case .invalidArgument, .outOfRange: return usage
        case .busy, .timeout: return timeout
        case .transport, .closed: return unavailable
        case .fenced, .readOnly, .reservationConflict, .notSupported, .noSpace: return refused
        default: return deviceError
        }
    }

    static func of(_ code: DatastoreError.Code) -> ExitCode {
        switch code {
        case .invalidArgument: usage
        case .notFound, .alreadyExists, .locked, .hostSlotsFull, .fenced, .readOnly, .noSpace, .notFormatted, .unsupportedVersion: refused
        case .busy: timeout
        case .corrupt, .device: deviceError
        default: failure
        }
    }

    static func of(_ code: ControlClientError.Code) -> ExitCode {
        switch code {
        case .notRunning: unavailable
        case .permissionDenied: refused
        case .timeout: timeout
        case .badResponse: failure
        case .daemonError(let rpc):
            switch rpc.code {
            case JSONRPCError.notPermittedCode, JSONRPCError.notFoundCode, JSONRPCError.inUseCode: refused
            case JSONRPCError.invalidParamsCode: usage
            default: failure
            }
        }
    }
}
