// Turns any error a command meets into one line on stderr and the exit code of its class.

import ArgumentParser
import BlockDevice
import Foundation
import ISCSI

enum CLIFailure {
    /// Runs `body`; on failure prints `vdiskctl: message` and exits with the class's code.
    static func guarding<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ValidationError {
            throw error
        } catch let error as ExitCode {
            throw error
        } catch {
            let (message, code) = describe(error)
            FileHandle.standardError.write(Data("vdiskctl: \(message)\n".utf8))
            throw code
        }
    }

    static func describe(_ error: any Error) -> (String, ExitCode) {
        switch error {
        case let error as CLIError:
            return (error.message, error.exitCode)
        case let error as ISCSIError:
            return (error.description, exitCode(for: error))
        case let error as BlockDeviceError:
            if let underlying = error.underlying as? ISCSIError {
                return (error.description, exitCode(for: underlying))
            }
            switch error.code {
            case .timeout: return (error.description, CLIExitCode.timeout)
            case .transport: return (error.description, CLIExitCode.unavailable)
            case .invalidArgument, .outOfRange: return (error.description, CLIExitCode.usage)
            default: return (error.description, CLIExitCode.deviceError)
            }
        default:
            return ("\(error)", CLIExitCode.failure)
        }
    }

    static func exitCode(for error: ISCSIError) -> ExitCode {
        switch error.code {
        case .authenticationFailed, .authorizationFailed, .targetNotFound, .targetRemoved:
            return CLIExitCode.refused
        case .timeout:
            return CLIExitCode.timeout
        case .connectFailed, .connectionClosed:
            return CLIExitCode.unavailable
        case .invalidArgument:
            return CLIExitCode.usage
        default:
            return CLIExitCode.failure
        }
    }
}
