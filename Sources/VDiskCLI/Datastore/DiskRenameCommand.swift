// `vdiskctl disk rename`: a new name for a disk nobody else holds.

import ArgumentParser
import Datastore

struct DiskRenameCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rename", abstract: "Rename a disk.")

    @OptionGroup var location: DatastoreLocation
    @Argument(help: "The disk name.")
    var name: String
    @Argument(help: "Its new name.")
    var newName: String
    @OptionGroup var host: HostOptions

    func run() async throws {
        try await DatastoreCommandRunner.run {
            try await DatastoreSession.withMounted(location, host) { store in
                try await DatastoreSession.retryingWhileLocked(host) {
                    try await store.renameDisk(name: name, to: newName)
                }
            }
            print("renamed disk '\(name)' to '\(newName)'")
        }
    }
}
