// What every command that asks the running daemon shares: the socket, --json, the timeout,
// and how a failed call becomes a message and an exit code.

import ArgumentParser
import Control
import Foundation

/// `--socket`, `--json` and `--timeout`, and the call itself.
struct DaemonCallOptions: ParsableArguments {
    @Option(name: .long, help: "The daemon's control socket.")
    var socket: String = ControlSocket.defaultPath

    @Flag(name: .long, help: "Print the daemon's answer as JSON.")
    var json = false

    @Option(name: .long, help: "Give up after this many seconds.")
    var timeout: Int = 10

    /// Calls `method`; a failure is printed on stderr and thrown as its exit code.
    func call(_ method: String, _ params: JSONValue? = nil) async throws -> JSONValue {
        do {
            return try await ControlClient(socketPath: socket, timeout: .seconds(timeout)).call(method, params: params)
        } catch {
            FileHandle.standardError.write(Data("vdiskctl: \(error.message)\n".utf8))
            throw CLIExitCode.of(error)
        }
    }

    /// Calls a list method and prints its entries as JSON or as a table of `row`s.
    func list(_ method: String, _ header: [String], row: (JSONValue) -> [String]) async throws {
        print(try await call(method)) { result in
            DaemonTable.render(header, (result.arrayValue ?? []).map(row))
        }
    }

    /// Prints `result` as JSON or through `table`.
    func print(_ result: JSONValue, table: (JSONValue) -> String) {
        Swift.print(json ? StatusCommand.json(result) : table(result), terminator: "")
    }
}

/// Column-aligned text for people: a header and rows, two spaces between columns.
enum DaemonTable {
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (index, cell) in cells.enumerated() {
                let last = index == cells.count - 1
                text += last ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0) + "  "
            }
            return text
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
    }

    /// The state column: the state, and the reason after it when there is one.
    static func state(_ entry: JSONValue) -> String {
        let state = entry["state"]?.stringValue ?? "?"
        guard let reason = entry["reason"]?.stringValue else { return state }
        // "waiting for host-a (heartbeat 3.2 s old)" reads as a sentence.
        if state == "waiting" { return "\(state) \(reason)" }
        return "\(state) (\(reason))"
    }

    static func text(_ value: JSONValue?) -> String {
        switch value {
        case .string(let text): text
        case .int(let number): String(number)
        case .bool(let flag): flag ? "yes" : "no"
        case .array(let items): items.map { text($0) }.joined(separator: ",")
        case .double(let number): String(number)
        case .null, .object, .none: "-"
        }
    }
}
