// `vdiskctl disk delete`: free a disk's blocks and its descriptor.

import ArgumentParser
import Datastore

struct DiskDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a disk and free its blocks.")

    @OptionGroup var location: DatastoreLocation
    @Argument(help: "The disk name.")
    var name: String
    @OptionGroup var host: HostOptions

    func run() async throws {
        try await DatastoreCommandRunner.run {
            try await DatastoreSession.withMounted(location, host) { store in
                try await DatastoreSession.retryingWhileLocked(host) {
                    try await store.deleteDisk(name: name)
                }
            }
            print("deleted disk '\(name)'")
        }
    }
}
