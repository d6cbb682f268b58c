// `vdiskctl export`: serve disks to iSCSI clients directly, before the daemon exists.

import ArgumentParser

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export virtual disks (or a raw block device) as an iSCSI target.",
        subcommands: [ExportServeCommand.self]
    )
}
