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

    @Option(help: "randread, randwrite, seqread or seqwrite.")
    var pattern: TargetBenchCommand.Pattern = .randread

    @Option(help: "Bytes per I/O, e.g. 4k or 1M.")
    var bs: ByteCount = ByteCount(bytes: 4096)

    @Option(help: "I/Os in flight at once.")
    var qd: Int = 1

    @Option(help: "How long to run, in seconds.")
    var seconds: Double = 10

    @Option(name: .customLong("max-ios"), help: "Stop after this many I/Os even if time is left.")
    var maxIOs: Int = 100_000_000

    @Option(help: "Use only the first SIZE bytes of the disk (default: all of it).")
    var range: ByteCount?

    @Flag(help: "Before the load, read the disk's whole block map into the map cache; the JSON then reports what it costs.")
    var warmMap = false

    @OptionGroup var host: HostOptions

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func validate() throws {
        guard (1...1024).contains(qd) else { throw ValidationError("--qd must be between 1 and 1024") }
        guard seconds > 0, seconds <= 3600 else { throw ValidationError("--seconds must be more than 0 and at most 3600") }
        guard bs.bytes >= 512, bs.bytes <= 64 << 20 else { throw ValidationError("--bs must be between 512 bytes and 64 MiB") }
        guard maxIOs > 0 else { throw ValidationError("--max-ios must be at least 1") }
    }

    func run() async throws {
        try await DatastoreCommandRunner.run {
            let (result, cacheBytes, allocated) = try await DatastoreSession.withMounted(location, host) { store in
                let disk = try await DatastoreSession.retryingWhileLocked(host) {
                    try await store.openDisk(name: name, mode: pattern.isWrite ? .exclusive : .sharedReadOnly)
                }
                do {
                    if warmMap { try await disk.warmMapCache() }
                    let result = try await BenchRunner(
                        device: disk,
                        pattern: pattern,
                        ioSize: Int(bs.bytes),
                        queueDepth: qd,
                        duration: .milliseconds(Int64(seconds * 1000)),
                        maxIOs: maxIOs,
                        rangeBytes: range?.bytes
                    ).run()
                    let measured = (result, disk.mapCacheBytes, disk.info.allocatedBlocks)
                    try await disk.close()
                    return measured
                } catch {
                    try? await disk.close()
                    throw error
                }
            }
            if json {
                var object = result.json(pattern: pattern.rawValue, ioSize: Int(bs.bytes), queueDepth: qd)
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
