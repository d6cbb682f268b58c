// `vdiskctl disks histogram DISK --kind K`: a vscsiStats-style histogram as a terminal bar chart.

import ArgumentParser
import Control
import Foundation

struct DiskHistogramCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "histogram", abstract: "Draw a disk's inspection histogram (length, seek, seek-closest, outstanding, latency, interarrival)."
    )
    @Argument(help: "The disk, written datastore/disk.") var disk: String
    @Option(help: "length, seek, seek-closest, outstanding, latency or interarrival.") var kind: String = "latency"
    @Option(name: .customLong("class"), help: "reads, writes or all.") var ioClass: String = "all"
    @Option(help: "The widest bar, in characters.") var width: Int = 50
    @OptionGroup var daemon: DaemonCallOptions

    func validate() throws {
        guard ["reads", "writes", "all"].contains(ioClass) else { throw ValidationError("--class is reads, writes or all, not \(ioClass)") }
        guard (10...500).contains(width) else { throw ValidationError("--width is 10...500") }
    }

    func run() async throws {
        let result = try await daemon.call("disks.histogram", .object(["disk": .string(disk), "kind": .string(kind)]))
        daemon.print(result) { Self.chart($0, disk: disk, ioClass: ioClass, width: width) }
    }

    /// One line per bucket: its label, its count and a bar scaled to the largest count.
    static func chart(_ result: JSONValue, disk: String, ioClass: String, width: Int) -> String {
        let edges = (result["edges"]?.arrayValue ?? []).compactMap(\.intValue)
        let counts = (result["classes"]?[ioClass]?.arrayValue ?? []).compactMap(\.intValue)
        let labels = counts.indices.map { $0 < edges.count ? "<= \(edges[$0])" : "> \(edges.last ?? 0)" }
        let labelWidth = labels.map(\.count).max() ?? 0
        let countWidth = counts.map { String($0).count }.max() ?? 1
        let largest = max(1, counts.max() ?? 0)
        let total = counts.reduce(0, +)
        var text = "\(DaemonTable.text(result["kind"])) of \(ioClass) on \(disk) (\(DaemonTable.text(result["unit"]))), \(total) I/Os"
        text += result["collecting"] == .bool(false) ? ", collection stopped\n" : "\n"
        for (index, count) in counts.enumerated() {
            let bar = String(repeating: "#", count: count == 0 ? 0 : max(1, count * width / largest))
            let label = labels[index].padding(toLength: labelWidth, withPad: " ", startingAt: 0)
            let number = String(repeating: " ", count: countWidth - String(count).count) + String(count)
            text += "\(label)  \(number)  \(bar)\n"
        }
        return text
    }
}

/// `vdiskctl disks trace DISK [--output FILE]`: the inspection filter's recent I/Os as CSV.
struct DiskTraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "trace", abstract: "Dump a disk's I/O trace (time, op, LBA, length, latency, status) as CSV.")
    @Argument(help: "The disk, written datastore/disk.") var disk: String
    @Option(help: "Write the CSV to this file instead of standard output.") var output: String?
    @OptionGroup var daemon: DaemonCallOptions

    func run() async throws {
        let result = try await daemon.call("disks.trace", .object(["disk": .string(disk)]))
        let csv = result["csv"]?.stringValue ?? ""
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: Data(csv.utf8)) else {
                throw ValidationError("cannot write \(output)")
            }
        } else {
            daemon.print(result) { _ in csv }
        }
    }
}

/// `vdiskctl disks inspection DISK start|stop|reset`.
struct DiskInspectionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspection", abstract: "Start, stop or reset a disk's histograms and trace.")
    @Argument(help: "The disk, written datastore/disk.") var disk: String
    @Argument(help: "start, stop or reset.") var action: String
    @OptionGroup var daemon: DaemonCallOptions

    func validate() throws {
        guard ["start", "stop", "reset"].contains(action) else { throw ValidationError("the action is start, stop or reset, not \(action)") }
    }

    func run() async throws {
        let result = try await daemon.call("disks.inspection", .object(["disk": .string(disk), "action": .string(action)]))
        daemon.print(result) { "disk \(disk): collection \($0["collecting"] == .bool(true) ? "on" : "off")\n" }
    }
}
