// `vdiskctl target bench --path URL …`: the same load over several paths to one LUN, through
// the Paths layer the daemon uses, with its policy and keepalive settings.

import ArgumentParser
import BlockDevice
import ISCSI
import ISCSIAddress
import LibISCSI
import NIOCore
import NIOPosix
import Paths

struct MultipathBenchOptions: ParsableArguments {
    @Option(name: .customLong("path"), help: "Another path to the same LUN (an iscsi:// URL); with one or more, the load runs over every path through the Paths layer.")
    var paths: [String] = []

    @Option(name: .customLong("path-policy"), help: "With --path: fixed, mru or round_robin.")
    var policy: String = "round_robin"

    @Option(name: .customLong("round-robin-ios"), help: "round_robin: switch paths after this many commands.")
    var roundRobinIOs: Int = PathPolicy.defaultRoundRobinIOs

    @Option(name: .customLong("round-robin-bytes"), help: "round_robin: switch paths after this many bytes.")
    var roundRobinBytes: Int = PathPolicy.defaultRoundRobinBytes

    @Option(name: .customLong("nop-interval"), help: "With --path: seconds of silence before a NOP-Out keepalive.")
    var nopInterval: Int = 5

    @Option(name: .customLong("nop-timeout"), help: "With --path: seconds a NOP-Out may go unanswered before the path is lost.")
    var nopTimeout: Int = 5

    @Option(name: .customLong("probe-interval"), help: "With --path: seconds between path probes.")
    var probeInterval: Int = 2

    @Option(name: .customLong("apd-timeout"), help: "With --path: seconds I/O waits with every path down before it fails.")
    var apdTimeout: Int = 140

    var isMultipath: Bool { !paths.isEmpty }

    func validate() throws {
        guard isMultipath else { return }
        do {
            _ = try PathPolicy(name: policy, ios: roundRobinIOs, bytes: roundRobinBytes)
        } catch {
            throw ValidationError("--path-policy: \(error.message)")
        }
        for (name, value) in [("--nop-interval", nopInterval), ("--nop-timeout", nopTimeout), ("--probe-interval", probeInterval)] where !(1...3600).contains(value) {
            throw ValidationError("\(name) must be between 1 and 3600 seconds")
        }
        guard (0...86400).contains(apdTimeout) else { throw ValidationError("--apd-timeout must be between 0 and 86400 seconds") }
    }

    /// Opens `url` and every `--path` as one multipath device, runs `body`, closes it.
    func withDevice<T>(_ url: ISCSITargetURL, target: TargetOptions, _ body: (any BlockDevice) async throws -> T) async throws -> T {
        // Every native path on one event loop: the device then offers it as its task executor.
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        var configurations = [try path(0, url, target: target, eventLoop: eventLoop)]
        for (offset, text) in paths.enumerated() {
            configurations.append(try path(offset + 1, try parseTargetURL(text), target: target, eventLoop: eventLoop))
        }
        var options = MultipathOptions()
        options.policy = try PathPolicy(name: policy, ios: roundRobinIOs, bytes: roundRobinBytes)
        options.probeInterval = .seconds(probeInterval)
        options.apdTimeout = .seconds(apdTimeout)
        let device = try await MultipathDevice.open(name: "\(url.targetName) LUN \(url.lun)", paths: configurations, options: options)
        return try await TargetConnection.using(device, body)
    }

    private func path(_ index: Int, _ url: ISCSITargetURL, target: TargetOptions, eventLoop: any EventLoop) throws -> PathConfiguration {
        let isid = ISCSISessionConfiguration.randomISID()
        let nopInterval = self.nopInterval
        let nopTimeout = self.nopTimeout
        let destination = "\(url.portal.host):\(url.portal.port)"
        switch target.engine {
        case .native:
            var session = try target.sessionConfiguration(for: url)
            session.isid = isid
            session.recoveryTimeout = .zero
            session.keepaliveInterval = .seconds(Int64(nopInterval))
            session.keepaliveTimeout = .seconds(Int64(nopTimeout))
            return PathConfiguration(name: "path\(index)", destination: destination) { [session] onUnitAttention in
                let lun = try await ISCSILUN.connect(url, configuration: session, eventLoopGroup: eventLoop)
                lun.forwardUnitAttentions(to: onUnitAttention)
                return lun
            }
        case .libiscsi:
            var configuration = try target.libiscsiConfiguration(for: url)
            configuration.nopInterval = .seconds(Int64(nopInterval))
            configuration.nopTimeout = .seconds(Int64(nopTimeout))
            configuration.autoReconnect = false
            let libiscsiURL = TargetOptions.libiscsiURL(url)
            return PathConfiguration(name: "path\(index)", destination: destination) { [configuration] _ in
                try await LibISCSIDevice.connect(url: libiscsiURL, configuration: configuration)
            }
        }
    }
}
