// `vdiskctl targets | datastores | disks | exports`: what the running daemon has configured
// and how each part is doing, as tables for people or (--json) for scripts.

import ArgumentParser
import Control

/// `vdiskctl targets`: the daemon's iSCSI sessions.
struct TargetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "targets", abstract: "Show the running vdiskd's targets and their sessions.")
    @OptionGroup var daemon: DaemonCallOptions

    func run() async throws {
        try await daemon.list("targets.list", ["NAME", "PORTAL", "IQN", "LUN", "ENGINE", "CMDSN WINDOW", "RECONNECTS", "LAST EVENT", "STATE"]) { target in
            let window = target["command_window"].map { "\(DaemonTable.text($0["exp_cmd_sn"]))..\(DaemonTable.text($0["max_cmd_sn"]))" } ?? "-"
            return ["name", "portal", "iqn", "lun", "engine"].map { DaemonTable.text(target[$0]) } + [window, DaemonTable.text(target["reconnects"]), DaemonTable.text(target["last_event"]), DaemonTable.state(target)]
        }
    }
}

/// `vdiskctl datastores [list | show NAME]`.
struct DatastoresCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datastores", abstract: "Show the running vdiskd's datastores.",
        subcommands: [DatastoresListCommand.self, DatastoresShowCommand.self, DatastoresRecoverCommand.self], defaultSubcommand: DatastoresListCommand.self
    )
}

/// `vdiskctl datastores show NAME`: hosts and heartbeats, locks, space and disks, read from the datastore.
struct DatastoresShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a mounted datastore's hosts, heartbeats, locks, space and disks.")
    @Argument(help: "The configured datastore.")
    var name: String
    @OptionGroup var daemon: DaemonCallOptions

    func run() async throws {
        daemon.print(try await daemon.call("datastores.show", .object(["datastore": .string(name)]))) { result in
            let info = result["info"]
            let blockSize = info?["fileBlockSize"]?.intValue ?? 0
            let free = (info?["freeBlocks"]?.intValue ?? 0) * blockSize
            var text = "datastore \(name): \(DaemonTable.text(info?["label"])) \(DaemonTable.text(info?["uuid"]))\n"
            text += "size \(DaemonTable.text(info?["volumeSize"])) bytes, free \(free) bytes\n\n"
            text += DaemonTable.render(["SLOT", "HOST", "STATE", "LAST HEARTBEAT"], (result["hosts"]?.arrayValue ?? []).map { host in
                ["slot", "hostName", "state", "lastRenewal"].map { DaemonTable.text(host[$0]) }
            })
            text += "\n" + DaemonTable.render(["LOCK", "MODE", "HOLDER", "SINCE"], (result["locks"]?.arrayValue ?? []).map { lock in
                ["object", "mode", "ownerName", "since"].map { DaemonTable.text(lock[$0]) }
            })
            text += "\n" + DaemonTable.render(["DISK", "KIND", "SIZE", "ALLOCATED"], (result["disks"]?.arrayValue ?? []).map { disk in
                ["name", "kind", "size", "allocatedBytes"].map { DaemonTable.text(disk[$0]) }
            })
            return text
        }
    }
}

/// `vdiskctl datastores list`: the daemon's mounted datastores.
struct DatastoresListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the running vdiskd's datastores.")
    @OptionGroup var daemon: DaemonCallOptions

    func run() async throws {
        try await daemon.list("datastores.list", ["NAME", "TARGET", "HOST", "STATE"]) { store in
            ["name", "target", "host_name"].map { DaemonTable.text(store[$0]) } + [DaemonTable.state(store)]
        }
    }
}

/// `vdiskctl disks [list | create | delete | grow | open | close | stats]`.
struct DisksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disks", abstract: "Show and change the running vdiskd's disks.",
        subcommands: [DisksListCommand.self, DisksCreateCommand.self, DisksDeleteCommand.self, DisksGrowCommand.self, DisksOpenCommand.self, DisksCloseCommand.self, DiskStatsCommand.self,
                      DiskFiltersCommand.self, DiskHistogramCommand.self, DiskTraceCommand.self, DiskInspectionCommand.self],
        defaultSubcommand: DisksListCommand.self
    )
}

/// `vdiskctl disks list`: the daemon's disks.
struct DisksListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the running vdiskd's disks.")
    @OptionGroup var daemon: DaemonCallOptions

    func run() async throws {
        try await daemon.list("disks.list", ["DISK", "MODE", "EXPORTS", "FILTERS", "STATE"]) { disk in
            // No chain at all prints "-"; an empty chain "none".
            let filters = disk["filters"]?.arrayValue.map { $0.isEmpty ? "none" : DaemonTable.text(.array($0)) } ?? "-"
            return ["\(DaemonTable.text(disk["datastore"]))/\(DaemonTable.text(disk["name"]))", DaemonTable.text(disk["mode"]), DaemonTable.text(disk["exports"]), filters, DaemonTable.state(disk)]
        }
    }
}

/// `vdiskctl exports [list | add | remove]`.
struct ExportsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exports", abstract: "Show and change the running vdiskd's exports.",
        subcommands: [ExportsListCommand.self, ExportsAddCommand.self, ExportsRemoveCommand.self], defaultSubcommand: ExportsListCommand.self
    )
}

/// `vdiskctl exports list`: the daemon's exports and the initiators connected to each.
struct ExportsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the running vdiskd's exports and the initiators connected to them.")
    @OptionGroup var daemon: DaemonCallOptions

    func run() async throws {
        daemon.print(try await daemon.call("exports.list")) { result in
            let exports = result.arrayValue ?? []
            var text = DaemonTable.render(
                ["NAME", "IQN", "LISTEN", "DISKS", "SESSIONS", "STATE"],
                exports.map { export in
                    ["name", "iqn", "listen", "disks"].map { DaemonTable.text(export[$0]) }
                        + [String(export["sessions"]?.arrayValue?.count ?? 0), DaemonTable.state(export)]
                }
            )
            let sessions = exports.flatMap { export in
                (export["sessions"]?.arrayValue ?? []).map { session in
                    [DaemonTable.text(export["name"])] + ["initiator", "isid", "portal", "initiator_address", "connections"].map { DaemonTable.text(session[$0]) }
                }
            }
            if !sessions.isEmpty {
                text += "\n" + DaemonTable.render(["EXPORT", "INITIATOR", "ISID", "PORTAL", "FROM", "CONNECTIONS"], sessions)
            }
            return text
        }
    }
}
