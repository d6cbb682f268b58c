// `vdiskctl disk info`: one disk's descriptor.

import ArgumentParser
import Datastore

struct DiskInfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Show one disk's size, kind and allocation.")

    @OptionGroup var location: DatastoreLocation
    @Argument(help: "The disk name.")
    var name: String
    @OptionGroup var host: HostOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await DatastoreCommandRunner.run {
            let info = try await DatastoreSession.withMounted(location, host) { store in
                try await store.diskInfo(name: name)
            }
            if output.json {
                try output.printJSON(info)
            } else {
                print(info.detailText)
            }
        }
    }
}
