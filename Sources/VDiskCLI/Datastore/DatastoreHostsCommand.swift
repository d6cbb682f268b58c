// `vdiskctl datastore hosts`: the heartbeat slots in use, as another host sees them.

import ArgumentParser
import Datastore
import Foundation

struct DatastoreHostsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hosts",
        abstract: "List the hosts that hold heartbeat slots (this command's own short mount left out)."
    )

    @OptionGroup var location: DatastoreLocation
    @OptionGroup var host: HostOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await DatastoreCommandRunner.run {
            let hosts = try await DatastoreSession.withMounted(location, host) { store in
                try await store.hosts().filter { !$0.isThisHost && $0.state != "free" }
            }
            if output.json {
                try output.printJSON(hosts)
                return
            }
            if hosts.isEmpty { print("no other host is mounted") }
            for slot in hosts {
                print("slot \(slot.slot): \(slot.state) host '\(slot.hostName)' (\(slot.hostUUID)) generation \(slot.generation), renewed \(slot.lastRenewal.formatted(.iso8601)) (counter \(slot.counter))")
            }
        }
    }
}
