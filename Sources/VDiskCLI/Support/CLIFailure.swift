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
        let message = switch error {
        case let error as CLIError: error.message
        default: "\(error)"
        }
        return (message, CLIExitCode.of(error))
    }
}
