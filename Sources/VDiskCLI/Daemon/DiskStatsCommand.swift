// `vdiskctl disks stats`: per-disk I/O statistics from the running daemon.

import ArgumentParser
import Control
import Foundation

/// One line per disk and class of command: totals, rates and latency percentiles.
public struct DiskStatsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show the running vdiskd's I/O statistics of each disk it serves, or of one."
    )

    @Argument(help: "Only this disk, written datastore/disk.")
    public var disk: String?

    @OptionGroup var daemon: DaemonCallOptions

    public init() {}

    public func run() async throws {
        let result = try await daemon.call("disks.stats", disk.map { JSONValue.object(["disk": .string($0)]) })
        daemon.print(result, table: Self.table)
    }

    static let kinds = ["read", "write", "other"]

    static func table(_ result: JSONValue) -> String {
        let header = ["DISK", "STATE", "KIND", "OPS", "BYTES", "ERRORS", "IOPS", "MB/S", "IOPS(LAST)", "MB/S(LAST)", "P50US", "P90US", "P99US", "P99.9US"]
        var rows: [[String]] = []
        for entry in result.arrayValue ?? [] {
            let name = entry["disk"]?.stringValue ?? "?"
            let state = entry["state"]?.stringValue ?? "?"
            for kind in kinds {
                let stats = entry[kind] ?? .object([:])
                let latency = stats["latency_us"]
                rows.append([
                    name, state, kind, int(stats["operations"]), int(stats["bytes"]), int(stats["errors"]),
                    decimal(stats["iops"]), decimal(stats["mb_per_second"]),
                    decimal(stats["interval_iops"]), decimal(stats["interval_mb_per_second"]),
                    int(latency?["p50"]), int(latency?["p90"]), int(latency?["p99"]), int(latency?["p99_9"]),
                ])
            }
        }
        return DaemonTable.render(header, rows)
    }

    private static func int(_ value: JSONValue?) -> String {
        value?.intValue.map(String.init) ?? "-"
    }

    private static func decimal(_ value: JSONValue?) -> String {
        switch value {
        case .double(let number)?: String(format: "%.1f", number)
        case .int(let number)?: String(number)
        default: "-"
        }
    }
}
