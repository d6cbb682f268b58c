// `vdiskctl datastore …`: format, inspect and check a datastore directly, without vdiskd.

import ArgumentParser

public struct DatastoreCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "datastore",
        abstract: "Format, inspect and check a clustered datastore on a LUN or image file.",
        subcommands: [
            DatastoreFormatCommand.self, DatastoreInfoCommand.self, DatastoreCheckCommand.self,
            DatastoreHostsCommand.self, DatastoreLocksCommand.self,
        ]
    )

    public init() {}
}
