// `vdiskctl disks create|delete|grow|open|close` and `vdiskctl exports add|remove`: changes
// the running daemon makes at once (they last until the next reload or restart; put them in
// the config file to keep them).

import ArgumentParser
import Control

/// DATASTORE NAME, the disk a change is about.
struct DaemonDiskArguments: ParsableArguments {
    @Argument(help: "The configured datastore holding the disk.")
    var datastore: String
    @Argument(help: "The disk's name.")
    var name: String

    var params: [String: JSONValue] { ["datastore": .string(datastore), "name": .string(name)] }
}

/// Runs one change and prints the daemon's answer.
private func change(_ daemon: DaemonCallOptions, _ method: String, _ params: [String: JSONValue], done: String) async throws {
    daemon.print(try await daemon.call(method, .object(params))) { _ in done + "\n" }
}

struct DisksCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a disk in a datastore the daemon has mounted.")
    @OptionGroup var disk: DaemonDiskArguments
    @Option(help: "The disk size, a multiple of 512 bytes (512, 4k, 1MiB, 10G, 1T).")
    var size: ByteCount
    @Flag(help: "Allocate and zero every block now (eager-zeroed).")
    var eagerZeroed = false
    @OptionGroup var daemon: DaemonCallOptions

    func run() async throws {
        let params = disk.params.merging(["size_bytes": .int(Int(size.bytes)), "eager_zeroed": .bool(eagerZeroed)]) { $1 }
        try await change(daemon, "disks.create", params, done: "created \(disk.datastore)/\(disk.name)")
    }
}

struct DisksDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a disk the daemon does not have open.")
    @OptionGroup var disk: DaemonDiskArguments
    @OptionGroup var daemon: DaemonCallOptions

    func run() async throws {
        try await change(daemon, "disks.delete", disk.params, done: "deleted \(disk.datastore)/\(disk.name)")
    }
}

struct DisksGrowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "grow", abstract: "Grow a disk; initiators of exports presenting it are told the capacity changed.")
    @OptionGroup var disk: DaemonDiskArguments
    @Option(help: "The new size (units allowed).")
    var size: ByteCount
    @OptionGroup var daemon: DaemonCallOptions

    func run() async throws {
        try await change(daemon, "disks.grow", disk.params.merging(["size_bytes": .int(Int(size.bytes))]) { $1 }, done: "grew \(disk.datastore)/\(disk.name) to \(size.bytes) bytes")
    }
}

struct DisksOpenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "open", abstract: "Open (and lock) a disk in the daemon, so an export can present it.")
    @OptionGroup var disk: DaemonDiskArguments
    @Option(help: "exclusive or shared-read-only.")
    var mode = "exclusive"
    @OptionGroup var daemon: DaemonCallOptions

    func run() async throws {
        try await change(daemon, "disks.open", disk.params.merging(["mode": .string(mode)]) { $1 }, done: "opened \(disk.datastore)/\(disk.name)")
    }
}

struct DisksCloseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "close", abstract: "Close a disk no export presents, releasing its lock.")
    @OptionGroup var disk: DaemonDiskArguments
    @OptionGroup var daemon: DaemonCallOptions

    func run() async throws {
        try await change(daemon, "disks.close", disk.params, done: "closed \(disk.datastore)/\(disk.name)")
    }
}

struct ExportsAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Serve open disks as a new export.")
    @Argument(help: "The export's name.")
    var name: String
    @Option(help: "The target's IQN.")
    var iqn: String
    @Option(help: ArgumentHelp("A portal to listen on (repeatable).", valueName: "host:port"))
    var listen: [String]
    @Option(help: ArgumentHelp("A disk as datastore/disk, LUN 0 first (repeatable).", valueName: "datastore/disk"))
    var disk: [String]
    @Flag(help: "Write-protect every LUN.")
    var readOnly = false
    @Option(help: "Require CHAP with this user name.")
    var chapUser: String?
    @Option(help: "The name of the CHAP secret in the daemon's secrets file.")
    var chapSecret: String?
    @OptionGroup var daemon: DaemonCallOptions

    func run() async throws {
        var params: [String: JSONValue] = [
            "name": .string(name), "iqn": .string(iqn), "read_only": .bool(readOnly),
            "listen": .array(listen.map { .string($0) }), "disks": .array(disk.map { .string($0) }),
        ]
        if let chapUser { params["chap_user"] = .string(chapUser) }
        if let chapSecret { params["chap_secret"] = .string(chapSecret) }
        try await change(daemon, "exports.add", params, done: "serving \(name)")
    }
}

struct ExportsRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Stop an export: drain, log its sessions out, flush its disks.")
    @Argument(help: "The export's name.")
    var name: String
    @OptionGroup var daemon: DaemonCallOptions

    func run() async throws {
        try await change(daemon, "exports.remove", ["name": .string(name)], done: "removed \(name)")
    }
}

/// `vdiskctl reload`: what SIGHUP does, with the answer printed.
struct ReloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reload", abstract: "Re-read the daemon's config: apply disks, exports and log_level; list what needs a restart.")
    @OptionGroup var daemon: DaemonCallOptions

    func run() async throws {
        daemon.print(try await daemon.call("reload")) { result in
            let changes = result["changes"]?.arrayValue ?? []
            guard !changes.isEmpty else { return "nothing changed\n" }
            return DaemonTable.render(["SECTION", "APPLIED", "DETAIL"], changes.map { change in
                ["section", "applied", "detail"].map { DaemonTable.text(change[$0]) }
            })
        }
    }
}
