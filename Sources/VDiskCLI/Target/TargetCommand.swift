// `vdiskctl target`: talk to an iSCSI target directly, without the daemon.

import ArgumentParser

struct TargetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "target",
        abstract: "Discover, inspect, read, write and benchmark iSCSI targets directly (no daemon needed).",
        discussion: """
            Targets are named like libiscsi's URLs: iscsi://[user[%password]@]host[:port]/IQN/LUN.
            Prefer --chap-secret-file or --chap-secret-env over a password in the URL.
            """,
        subcommands: [
            TargetDiscoverCommand.self,
            TargetInquiryCommand.self,
            TargetCapacityCommand.self,
            TargetReadCommand.self,
            TargetWriteCommand.self,
            TargetBenchCommand.self,
        ]
    )
}
