// `vdiskctl metrics`: the daemon's Prometheus exposition, through the control socket.

import ArgumentParser

/// Prints what a scrape of `metrics_listen` would get, without needing that listener on.
public struct MetricsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Print the running vdiskd's metrics in the Prometheus text format."
    )

    @OptionGroup var daemon: DaemonCallOptions

    public init() {}

    public func run() async throws {
        daemon.print(try await daemon.call("metrics")) { $0["text"]?.stringValue ?? "" }
    }
}
