// `vdiskctl metrics`: the daemon's Prometheus exposition, through the control socket.

import ArgumentParser

/// Prints what a scrape of `metrics_listen` would get, without needing that listener on.
public struct MetricsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Print the running vdiskd's metrics in the Prometheus text format."
    )

    @OptionGroup var daemon: DaemonConnectionOptions

    public init() {}

    public func run() async throws {
        let result = try await daemon.call("metrics")
        print(result["text"]?.stringValue ?? "", terminator: "")
    }
}
