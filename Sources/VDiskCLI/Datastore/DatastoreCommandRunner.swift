// Runs a datastore or disk command body and turns any failure into one stderr line and
// an exit status, so every command fails the same way.

import ArgumentParser
import Foundation

enum DatastoreCommandRunner {
    static func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as ExitCode {
            throw error
        } catch let error as CleanExit {
            throw error
        } catch let error as ValidationError {
            throw error
        } catch {
            let failure = DatastoreCommandError(describing: error)
            printError(failure.message)
            throw failure.exitCode
        }
    }

    static func printError(_ line: String) {
        FileHandle.standardError.write(Data("vdiskctl: \(line)\n".utf8))
    }

    /// Notes (takeovers and the like) go to stderr so stdout stays parseable.
    static func printNote(_ line: String) {
        FileHandle.standardError.write(Data("vdiskctl: note: \(line)\n".utf8))
    }
}
