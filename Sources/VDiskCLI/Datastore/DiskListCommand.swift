// `vdiskctl disk list`: every disk on a datastore.

import ArgumentParser
import Datastore

struct DiskListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the disks on a datastore.")

    @OptionGroup var location: DatastoreLocation
    @OptionGroup var host: HostOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await DatastoreCommandRunner.run {
            let disks = try await DatastoreSession.withMounted(location, host) { store in
                try await store.listDisks()
            }
            if output.json {
                try output.printJSON(disks)
            } else {
                for disk in disks { print(disk.listLine) }
            }
        }
    }
}
