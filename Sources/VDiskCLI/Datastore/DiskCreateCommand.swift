// `vdiskctl disk create`: a new thin (or eager-zeroed) disk.

import ArgumentParser
import Datastore

struct DiskCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a disk: thin (blocks allocated on first write) unless --eager."
    )

    @OptionGroup var location: DatastoreLocation
    @Argument(help: "The disk name (1-255 bytes, no '/').")
    var name: String
    @Option(help: "The disk size, a multiple of 512 bytes (512, 4k, 1MiB, 10G, 1T).")
    var size: ByteCount
    @Flag(help: "Allocate and zero every block now (eager-zeroed).")
    var eager = false
    @OptionGroup var host: HostOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await DatastoreCommandRunner.run {
            let info = try await DatastoreSession.withMounted(location, host) { store in
                try await store.createDisk(name: name, size: size.bytes, kind: eager ? .eagerZeroed : .thin)
            }
            if output.json {
                try output.printJSON(info)
            } else {
                print("created \(info.kind) disk '\(info.name)' of \(ByteCount(bytes: info.size))")
            }
        }
    }
}
