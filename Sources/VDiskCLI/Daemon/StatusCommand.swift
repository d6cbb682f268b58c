// `vdiskctl status`: asks the running daemon how it is, for people or (--json) for scripts.

import ArgumentParser
import Control
import Foundation

/// Prints the daemon's version, uptime and the state of each service.
public struct StatusCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the running vdiskd's version, uptime and services (exit 69 when it is not running)."
    )

    @Option(name: .long, help: "The daemon's control socket.")
    public var socket: String = ControlSocket.defaultPath

    @Flag(name: .long, help: "Print the daemon's answer as JSON.")
    public var json = false

    @Option(name: .long, help: "Give up after this many seconds.")
    public var timeout: Int = 10

    public init() {}

    public func run() async throws {
        let result: JSONValue
        do {
            result = try await ControlClient(socketPath: socket, timeout: .seconds(timeout)).call("status")
        } catch {
            FileHandle.standardError.write(Data("vdiskctl: \(error.message)\n".utf8))
            throw CLIExitCode.of(error)
        }
        print(json ? Self.json(result) : Self.table(result), terminator: "")
    }

    static func json(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { preconditionFailure("a JSON value always encodes") }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func table(_ status: JSONValue) -> String {
        var lines: [String] = []
        lines.append("vdiskd \(status["version"]?.stringValue ?? "?"), up \(status["uptime_seconds"]?.intValue ?? 0) s")
        lines.append("config:  \(status["config_path"]?.stringValue ?? "?")")
        lines.append("socket:  \(status["control_socket"]?.stringValue ?? "?")")
        lines.append("log:     \(status["log_level"]?.stringValue ?? "?")")
        lines.append("")
        let services = status["services"]?.arrayValue ?? []
        let width = max(7, services.compactMap { $0["name"]?.stringValue?.count }.max() ?? 0)
        lines.append("SERVICE".padding(toLength: width, withPad: " ", startingAt: 0) + "  STATE        DETAIL")
        for service in services {
            let name = service["name"]?.stringValue ?? "?"
            let state = service["state"]?.stringValue ?? "?"
            let reason = service["reason"]?.stringValue ?? ""
            lines.append(name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + state.padding(toLength: 11, withPad: " ", startingAt: 0) + "  " + reason)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
