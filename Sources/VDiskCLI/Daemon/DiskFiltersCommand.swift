// `vdiskctl disks filters DISK [show | add | remove | set]`: a disk's filter chain, changed live.

import ArgumentParser
import Control

/// The chain of one disk, from the client down.
struct DiskFiltersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filters", abstract: "Show and change a disk's filter chain while it serves I/O.",
        subcommands: [Show.self, Add.self, Remove.self, Set.self], defaultSubcommand: Show.self
    )

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a disk's filters, their parameters and recent events.")
        @Argument(help: "The disk, written datastore/disk.") var disk: String
        @OptionGroup var daemon: DaemonCallOptions

        func run() async throws {
            daemon.print(try await daemon.call("disks.filters", .object(["disk": .string(disk)])), table: DiskFiltersCommand.table)
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Add a filter in its category's place (quiesce, swap, resume).",
            discussion: "Example: vdiskctl disks filters add ds1/vm1 ioControl iops=500 iops_max=2000 iops_max_length=2"
        )
        @OptionGroup var change: Change

        func run() async throws { try await change.send("disks.filters.add") }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a filter (quiesce, swap, resume).")
        @Argument(help: "The disk, written datastore/disk.") var disk: String
        @Argument(help: "The filter's name or category.") var filter: String
        @OptionGroup var daemon: DaemonCallOptions

        func run() async throws {
            let result = try await daemon.call("disks.filters.remove", try DiskFiltersCommand.params(disk, filter, []))
            daemon.print(result, table: DiskFiltersCommand.table)
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Change a filter's parameters in place (the rest keep their values).",
            discussion: "Example: vdiskctl disks filters set ds1/vm1 ioControl iops=1000 shares=2000"
        )
        @OptionGroup var change: Change

        func run() async throws { try await change.send("disks.filters.set") }
    }

    /// What `add` and `set` take: the disk, the filter and `name=value` parameters.
    struct Change: ParsableArguments {
        @Argument(help: "The disk, written datastore/disk.") var disk: String
        @Argument(help: "The filter (ioControl, inspection, faultInjection), by name or category.") var filter: String
        @Argument(help: "Parameters as name=value.") var parameters: [String] = []
        @OptionGroup var daemon: DaemonCallOptions

        func send(_ method: String) async throws {
            let result = try await daemon.call(method, try DiskFiltersCommand.params(disk, filter, parameters))
            daemon.print(result, table: DiskFiltersCommand.table)
        }
    }

    /// `name=value` words as a parameters object: integers, decimals, true/false, else strings.
    static func params(_ disk: String, _ filter: String, _ words: [String]) throws -> JSONValue {
        var parameters: [String: JSONValue] = [:]
        for word in words {
            guard let equals = word.firstIndex(of: "="), equals != word.startIndex else {
                throw ValidationError("parameter \"\(word)\" is not name=value")
            }
            let name = String(word[..<equals]), text = String(word[word.index(after: equals)...])
            if let number = Int(text) {
                parameters[name] = .int(number)
            } else if let number = Double(text) {
                parameters[name] = .double(number)
            } else if text == "true" || text == "false" {
                parameters[name] = .bool(text == "true")
            } else {
                parameters[name] = .string(text)
            }
        }
        return .object(["disk": .string(disk), "filter": .string(filter), "parameters": .object(parameters)])
    }

    static func table(_ result: JSONValue) -> String {
        let filters = result["filters"]?.arrayValue ?? []
        var text = "disk \(DaemonTable.text(result["disk"])): " + (filters.isEmpty ? "empty chain\n" : "\(filters.count) filter(s), client first\n")
        if !filters.isEmpty {
            text += DaemonTable.render(["FILTER", "CATEGORY", "ON FAILURE", "PARAMETERS"], filters.map { filter in
                let parameters: String
                if case .object(let fields)? = filter["parameters"] {
                    parameters = fields.keys.sorted().map { "\($0)=\(DaemonTable.text(fields[$0]))" }.joined(separator: " ")
                } else {
                    parameters = "-"
                }
                return ["name", "category", "failure_policy"].map { DaemonTable.text(filter[$0]) } + [parameters.isEmpty ? "-" : parameters]
            })
        }
        let events = result["events"]?.arrayValue ?? []
        if !events.isEmpty {
            text += "\nrecent events:\n" + events.map { "  \(DaemonTable.text($0))\n" }.joined()
        }
        return text
    }
}
