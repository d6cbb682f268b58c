// The root of the vdiskctl command tree.

import ArgumentParser

/// `vdiskctl`: drives vdiskd through its control socket, and works on targets,
/// datastores and disks directly where no daemon is needed.
public struct VDiskCtl: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "vdiskctl",
        abstract: "Control vdiskd, and work on iSCSI targets, datastores and virtual disks directly.",
        version: VDiskVersion.current,
        subcommands: [
            StatusCommand.self, ReloadCommand.self, MetricsCommand.self, TargetsCommand.self, DatastoresCommand.self, DisksCommand.self, ExportsCommand.self, EventsCommand.self, PathsCommand.self,
            TargetCommand.self, DatastoreCommand.self, DiskCommand.self, ExportCommand.self,
        ]
    )

    public init() {}
}

/// The product version printed by `--version`.
public enum VDiskVersion {
    public static let current = "0.1.0"
}
