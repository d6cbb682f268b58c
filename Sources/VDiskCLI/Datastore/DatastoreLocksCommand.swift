// `vdiskctl datastore locks`: every held disk and cluster lock, and its holder.

import ArgumentParser
import Datastore
import Foundation

struct DatastoreLocksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "locks",
        abstract: "List held locks on disks and resource clusters, with their holders."
    )

    @OptionGroup var location: DatastoreLocation
    @OptionGroup var host: HostOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await DatastoreCommandRunner.run {
            let locks = try await DatastoreSession.withMounted(location, host) { store in
                try await store.locks()
            }
            if output.json {
                try output.printJSON(locks)
                return
            }
            if locks.isEmpty { print("no locks are held") }
            for lock in locks {
                let since = (lock.since.map { " since \($0.formatted(.iso8601))" } ?? "") + (lock.isStale ? " (stale: its holder is gone)" : "")
                if let owner = lock.ownerName, let uuid = lock.ownerUUID {
                    print("\(lock.object): \(lock.mode) by host '\(owner)' (\(uuid)) in slot \(lock.ownerSlot ?? -1)\(since)")
                } else {
                    print("\(lock.object): \(lock.mode) by host slots \(lock.sharedSlots)\(since)")
                }
            }
        }
    }
}
