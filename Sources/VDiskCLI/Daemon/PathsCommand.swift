// `vdiskctl paths`: each multipath target's paths, their states and counters; enable, disable,
// change the policy, reopen after device loss.

import ArgumentParser
import Control

/// `vdiskctl paths [list | enable | disable | policy | reopen]`.
struct PathsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paths", abstract: "Show and change the paths of the running vdiskd's multipath targets.",
        subcommands: [PathsListCommand.self, PathsEnableCommand.self, PathsDisableCommand.self, PathsPolicyCommand.self, PathsReopenCommand.self],
        defaultSubcommand: PathsListCommand.self
    )

    /// One table per target: its health and policy, then a row per path.
    static func table(_ result: JSONValue) -> String {
        let targets = result.arrayValue ?? [result]
        return targets.map { target in
            var text = "target \(DaemonTable.text(target["target"])): \(DaemonTable.text(target["health"])), policy \(DaemonTable.text(target["policy_detail"]))\n"
            text += "identity \(DaemonTable.text(target["identity"]))\n"
            if let lost = target["lost"]?.stringValue { text += "\(lost)\n" }
            text += DaemonTable.render(
                ["PATH", "SOURCE", "DESTINATION", "STATE", "IN USE", "ALUA", "READS", "WRITES", "MIB", "ERRORS", "MEAN US", "MAX US", "REASON"],
                (target["paths"]?.arrayValue ?? []).map { path in
                    let bytes = (path["bytes_read"]?.intValue ?? 0) + (path["bytes_written"]?.intValue ?? 0)
                    return [
                        DaemonTable.text(path["name"]), DaemonTable.text(path["source"]), DaemonTable.text(path["destination"]),
                        DaemonTable.text(path["state"]) + (path["damped"] == .bool(true) ? " (damped)" : ""), path["selected"] == .bool(true) ? "*" : "", DaemonTable.text(path["alua_state"]),
                        DaemonTable.text(path["reads"]), DaemonTable.text(path["writes"]), String(bytes >> 20),
                        DaemonTable.text(path["path_errors"]), DaemonTable.text(path["latency_mean_us"]), DaemonTable.text(path["latency_max_us"]),
                        DaemonTable.text(path["reason"]),
                    ]
                }
            )
            return text
        }.joined(separator: "\n")
    }
}

struct PathsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List every multipath target's paths (or one target's).")
    @Argument(help: "A target with several paths; all of them when left out.")
    var target: String?
    @OptionGroup var daemon: DaemonCallOptions

    func run() async throws {
        let params: JSONValue? = target.map { .object(["target": .string($0)]) }
        daemon.print(try await daemon.call("paths.list", params), table: PathsCommand.table)
    }
}

struct PathsEnableCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enable", abstract: "Put a disabled path back in service (opened at the next probe).")
    @Argument(help: "The target.") var target: String
    @Argument(help: "The path, as `vdiskctl paths` names it.") var path: String
    @OptionGroup var daemon: DaemonCallOptions

    func run() async throws {
        daemon.print(try await daemon.call("paths.enable", .object(["target": .string(target), "path": .string(path)])), table: PathsCommand.table)
    }
}

struct PathsDisableCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "disable", abstract: "Take a path out of service; its I/O moves to the other paths.")
    @Argument(help: "The target.") var target: String
    @Argument(help: "The path, as `vdiskctl paths` names it.") var path: String
    @OptionGroup var daemon: DaemonCallOptions

    func run() async throws {
        daemon.print(try await daemon.call("paths.disable", .object(["target": .string(target), "path": .string(path)])), table: PathsCommand.table)
    }
}

struct PathsPolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "policy", abstract: "Change a target's path policy while it runs.")
    @Argument(help: "The target.") var target: String
    @Argument(help: "fixed, mru or round_robin.") var policy: String
    @Option(help: "fixed: the preferred path.") var preferred: String?
    @Option(help: "round_robin: switch after this many commands (default 1000).") var ios: Int?
    @Option(help: "round_robin: switch after this many bytes (default 10485760).") var bytes: Int?
    @OptionGroup var daemon: DaemonCallOptions

    func run() async throws {
        var params: [String: JSONValue] = ["target": .string(target), "policy": .string(policy)]
        if let preferred { params["preferred"] = .string(preferred) }
        if let ios { params["ios"] = .int(ios) }
        if let bytes { params["bytes"] = .int(bytes) }
        daemon.print(try await daemon.call("paths.policy", .object(params)), table: PathsCommand.table)
    }
}

struct PathsReopenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reopen", abstract: "Open a target's paths again after device loss (its LUN is back).")
    @Argument(help: "The target.") var target: String
    @OptionGroup var daemon: DaemonCallOptions

    func run() async throws {
        daemon.print(try await daemon.call("paths.reopen", .object(["target": .string(target)])), table: PathsCommand.table)
    }
}
