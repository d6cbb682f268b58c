// `vdiskctl events` and `vdiskctl datastores recover`: what happened lately, and bringing a
// fenced datastore back without restarting the daemon.

import ArgumentParser
import Control

/// `vdiskctl events`: the daemon's recent state changes, oldest first.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Show the running vdiskd's recent state changes of targets, datastores, disks and exports."
    )
    @Option(help: "Show only the most recent N events.")
    var last: Int?
    @OptionGroup var daemon: DaemonCallOptions

    func validate() throws {
        if let last, last <= 0 { throw ValidationError("--last must be a positive number of events, not \(last)") }
    }

    func run() async throws {
        let params: JSONValue? = last.map { .object(["limit": .int($0)]) }
        daemon.print(try await daemon.call("events.list", params)) { result in
            var text = DaemonTable.render(["TIME", "PART", "STATE", "REASON"], (result["events"]?.arrayValue ?? []).map { event in
                ["time", "part", "state", "reason"].map { DaemonTable.text(event[$0]) }
            })
            if let dropped = result["dropped"]?.intValue, dropped > 0 {
                text += "(\(dropped) older events were dropped)\n"
            }
            return text
        }
    }
}

/// `vdiskctl datastores recover NAME`: mount a fenced datastore again with a new generation.
struct DatastoresRecoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Mount a fenced datastore again with a new generation, then reopen its disks and restart their exports."
    )
    @Argument(help: "The fenced datastore.")
    var name: String
    @OptionGroup var daemon: DaemonCallOptions

    func run() async throws {
        daemon.print(try await daemon.call("datastores.recover", .object(["datastore": .string(name)]))) { result in
            var text = "datastore \(name) mounted again with generation \(DaemonTable.text(result["generation"]))\n"
            text += "previous mount: \(DaemonTable.text(result["previous_mount"]))\n"
            for (kind, key) in [("disk", "disks"), ("export", "exports")] {
                if case .object(let entries) = result[key] {
                    for (name, state) in entries.sorted(by: { $0.key < $1.key }) {
                        text += "\(kind) \(name): \(DaemonTable.text(state))\n"
                    }
                }
            }
            return text
        }
    }
}
