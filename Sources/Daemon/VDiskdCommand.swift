// The `vdiskd` command line: run the daemon from a config, or only check the config.

import ArgumentParser
import Foundation
import Logging
import Metrics

/// `vdiskd [--config PATH] [--check]`.
public struct VDiskdCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "vdiskd",
        abstract: "Serve virtual SCSI disks from clustered datastores on iSCSI LUNs.",
        version: DaemonVersion.current
    )

    @Option(name: .long, help: "The config file.")
    public var config: String = ConfigLoader.defaultPath

    @Flag(name: .long, help: "Validate the config (and its secrets file), and that this user can use the groups and directories it names; print the result, and exit 0 or 1.")
    public var check = false

    public init() {}

    public func run() async throws {
        if check {
            do throws(ConfigInvalid) {
                let loaded = try ConfigLoader.load(path: config)
                let problems = HostCheck.problems(in: loaded)
                guard problems.isEmpty else { throw ConfigInvalid(errors: problems) }
                print("\(config): valid (\(loaded.targets.count) targets, \(loaded.datastores.count) datastores, \(loaded.disks.count) disks, \(loaded.exports.count) exports)")
            } catch {
                for problem in error.errors { FileHandle.standardError.write(Data("\(problem)\n".utf8)) }
                throw ExitCode(1)
            }
            return
        }
        let level = LogLevelControl(.info)
        LoggingSystem.bootstrap { label in LiveLevelLogHandler(label: label, control: level) }
        let metrics = DaemonMetrics()
        MetricsSystem.bootstrap(metrics.factory)
        let runner = DaemonRunner(configPath: config, environment: ProcessInfo.processInfo.environment, logLevel: level, logger: Logger(label: "vdiskd"), metrics: metrics)
        let status = await runner.run()
        if status != 0 { throw ExitCode(status) }
    }
}
