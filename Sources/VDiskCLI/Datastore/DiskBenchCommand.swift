// `vdiskctl disk bench`: the target bench's load on a virtual disk instead of a LUN, so a
// disk can be measured against the raw LUN under it with the same runner.

import ArgumentParser
import Datastore
import Foundation

struct DiskBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run a bounded read or write load against a virtual disk and print IOPS, MB/s and latency percentiles.",
        discussion: "Write patterns open the disk exclusively and overwrite (or, on a thin disk, allocate) what they touch; read patterns open it shared read-only."
    )

    @OptionGroup var location: DatastoreLocation
    @Argument(help: "The disk name.")
    var name: String

    @OptionGroup var load: BenchLoadOptions

    @Flag(help: "Before the load, read the disk's whole block map into the map cache; the JSON then reports what it costs.")
    var warmMap = false

    @OptionGroup var host: HostOptions

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() async throws {
        try await DatastoreCommandRunner.run {
            let (result, cacheBytes, allocated) = try await DatastoreSession.withMounted(location, host) { store in
                let disk = try await DatastoreSession.retryingWhileLocked(host) {
                    try await store.openDisk(name: name, mode: load.pattern.isWrite ? .exclusive : .sharedReadOnly)
                }
                do {
                    if warmMap { try await disk.warmMapCache() }
                    let result = try await load.runner(on: disk).run()
                    let measured = (result, disk.mapCacheBytes, disk.info.allocatedBlocks)
                    try await disk.close()
                    return measured
                } catch {
                    try? await disk.close()
                    throw error
                }
            }
            if json {
                var object = load.json(result)
                object["mapCacheBytes"] = cacheBytes
                object["allocatedBlocks"] = allocated
                print(try JSONOutput.string(object))
            } else {
                print(result.text)
                print("map cache \(cacheBytes) bytes; \(allocated) file blocks allocated")
            }
        }
    }
}
