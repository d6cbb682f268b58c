// `vdiskctl targets | datastores | disks | exports`: what the running daemon has configured
// and how each part is doing, as tables for people or (--json) for scripts.

import ArgumentParser
import Daemon

/// `vdiskctl targets`: the daemon's iSCSI sessions.
struct TargetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "targets", abstract: "Show the running vdiskd's targets and their sessions.")
    @OptionGroup var daemon: DaemonCallOptions

    func run() async throws {
        try await daemon.list("targets.list", ["NAME", "PORTAL", "IQN", "LUN", "ENGINE", "STATE"]) { target in
            ["name", "portal", "iqn", "lun", "engine"].map { DaemonTable.text(target[$0]) } + [DaemonTable.state(target)]
        }
    }
}

/// `vdiskctl datastores`: the daemon's mounted datastores.
struct DatastoresCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "datastores", abstract: "Show the running vdiskd's datastores.")
    @OptionGroup var daemon: DaemonCallOptions

    func run() async throws {
        try await daemon.list("datastores.list", ["NAME", "TARGET", "HOST", "STATE"]) { store in
            ["name", "target", "host_name"].map { DaemonTable.text(store[$0]) } + [DaemonTable.state(store)]
        }
    }
}

/// `vdiskctl disks`: the daemon's open disks.
struct DisksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "disks", abstract: "Show the running vdiskd's disks.")
    @OptionGroup var daemon: DaemonCallOptions

    func run() async throws {
        try await daemon.list("disks.list", ["DISK", "MODE", "EXPORTS", "STATE"]) { disk in
            ["\(DaemonTable.text(disk["datastore"]))/\(DaemonTable.text(disk["name"]))", DaemonTable.text(disk["mode"]), DaemonTable.text(disk["exports"]), DaemonTable.state(disk)]
        }
    }
}

/// `vdiskctl exports`: the daemon's exports and the initiators connected to each.
struct ExportsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "exports", abstract: "Show the running vdiskd's exports and the initiators connected to them.")
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
