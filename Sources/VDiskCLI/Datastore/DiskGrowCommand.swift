// `vdiskctl disk grow`: a larger logical size (never smaller).

import ArgumentParser
import Datastore

struct DiskGrowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "grow", abstract: "Grow a disk to a new size; an eager-zeroed disk gets its new blocks zeroed now.")

    @OptionGroup var location: DatastoreLocation
    @Argument(help: "The disk name.")
    var name: String
    @Option(help: "The new size (at least the current one).")
    var size: ByteCount
    @OptionGroup var host: HostOptions

    func run() async throws {
        try await DatastoreCommandRunner.run {
            try await DatastoreSession.withMounted(location, host) { store in
                try await DatastoreSession.retryingWhileLocked(host) {
                    try await store.growDisk(name: name, to: size.bytes)
                }
            }
            print("grew disk '\(name)' to \(size)")
        }
    }
}
