// `vdiskctl disk …`: create, inspect, change and move data in virtual disks on a datastore.

import ArgumentParser

public struct DiskCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "disk",
        abstract: "Create, list, inspect, grow, rename, delete, write and read virtual disks on a datastore; show the daemon's per-disk I/O statistics.",
        subcommands: [
            DiskCreateCommand.self, DiskListCommand.self, DiskInfoCommand.self, DiskGrowCommand.self,
            DiskRenameCommand.self, DiskDeleteCommand.self, DiskWriteCommand.self, DiskReadCommand.self, DiskBenchCommand.self,
        ]
    )

    public init() {}
}
