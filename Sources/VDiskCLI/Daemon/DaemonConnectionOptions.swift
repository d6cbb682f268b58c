// The options every command that talks to the running daemon shares, and its one call.

import ArgumentParser
import Daemon
import Foundation

/// `--socket` and `--timeout`, and a call that turns a failure into vdiskctl's message and exit code.
struct DaemonConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "The daemon's control socket.")
    var socket: String = DaemonSettings().controlSocket

    @Option(name: .long, help: "Give up after this many seconds.")
    var timeout: Int = 10

    /// The method's result; on failure prints `vdiskctl: message` and throws the class's exit code.
    func call(_ method: String, params: JSONValue? = nil) async throws -> JSONValue {
        do {
            return try await ControlClient(socketPath: socket, timeout: .seconds(timeout)).call(method, params: params)
        } catch {
            FileHandle.standardError.write(Data("vdiskctl: \(error.message)\n".utf8))
            throw StatusCommand.exitCode(for: error)
        }
    }
}
