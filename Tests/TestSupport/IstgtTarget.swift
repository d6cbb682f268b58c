// A running istgt with a config written for it, on its own loopback ports,
// and its removal: SIGTERM, SIGKILL after a bounded wait, scratch dir.

import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

public final class IstgtTarget: ISCSITargetDaemon {
    public let portal: Portal
    /// istgt's unit-control (istgtcontrol) portal; mutual CHAP with
    /// `unitControlCHAP` guards it.
    public let unitControlPortal: Portal
    public let unitControlCHAP: CHAPAuthentication
    public let targets: [ServedTarget]
    public let directory: ScratchDirectory
    public let configFile: String

    private let process: ChildProcess
    private let stopped = NIOLockedValueBox(false)

    public var pid: pid_t {
        process.pid
    }

    private init(
        portal: Portal,
        unitControlPortal: Portal,
        unitControlCHAP: CHAPAuthentication,
        targets: [ServedTarget],
        directory: ScratchDirectory,
        configFile: String,
        process: ChildProcess
    ) {
        self.portal = portal
        self.unitControlPortal = unitControlPortal
        self.unitControlCHAP = unitControlCHAP
        self.targets = targets
        self.directory = directory
        self.configFile = configFile
        self.process = process
    }

    /// Retries when another process took a port first (istgt then exits).
    private static let startAttempts = 5

    /// istgt needs a few seconds after SIGTERM to close sessions and exit.
    private static let terminationGracePeriod: Duration = .seconds(10)

    /// Writes the config, starts `istgt -c FILE -D` and waits until istgt
    /// itself listens on both portals, or cleans up and throws an error
    /// naming the command with its output.
    public static func start(_ configuration: IstgtConfiguration) async throws -> IstgtTarget {
        try configuration.validate()
        let istgt = try ExternalTool.istgt.path()
        let directory = try ScratchDirectory(prefix: "istgt")
        do {
            var backingFiles: [[String]] = []
            var served: [ServedTarget] = []
            for (index, spec) in configuration.targets.enumerated() {
                var files: [String] = []
                var luns: [ServedLUN] = []
                for lun in spec.luns {
                    guard case .file(let size) = lun.backing else {
                        preconditionFailure("validate() admits file-backed LUNs only")
                    }
                    let file = try directory.createSparseFile("t\(index + 1)-lun\(lun.number).img", size: size)
                    files.append(file)
                    luns.append(ServedLUN(number: lun.number, size: size, backingFile: file, thinProvisioning: false))
                }
                backingFiles.append(files)
                served.append(ServedTarget(iqn: spec.iqn, luns: luns, chap: spec.chap))
            }
            let unitControlCHAP = CHAPAuthentication.mutual(
                user: "ctl\(UInt32.random(in: .min ... .max))",
                secret: randomSecret(),
                targetUser: "ctlmutual",
                targetSecret: randomSecret()
            )

            var reasons: [String] = []
            for attempt in 1...startAttempts {
                let port = try LoopbackPort.reserve()
                let unitControlPort = try LoopbackPort.reserve()
                let config = IstgtConfigFile(
                    directory: directory,
                    port: port,
                    unitControlPort: unitControlPort,
                    targets: configuration.targets,
                    backingFiles: backingFiles,
                    unitControlCHAP: unitControlCHAP,
                    extraPortalHosts: configuration.extraPortalHosts
                )
                _ = try directory.write(config.authFile, to: "auth.conf")
                let configFile = try directory.write(config.mainFile, to: "istgt.conf")
                let process = try await ChildProcess.spawn(
                    executable: istgt,
                    arguments: ["-c", configFile, "-D"],
                    stdoutPath: directory.file("istgt-\(attempt).log")
                )
                let ready = await BoundedWait.until(timeout: configuration.startTimeout, interval: .milliseconds(50)) {
                    process.pollExit() != nil
                        || (LoopbackPort.isListening(pid: process.pid, port: port)
                            && LoopbackPort.isListening(pid: process.pid, port: unitControlPort)
                            && LoopbackPort.isAccepting(port: port))
                }
                if ready, process.pollExit() == nil {
                    return IstgtTarget(
                        portal: Portal(host: LoopbackPort.host, port: port),
                        unitControlPortal: Portal(host: LoopbackPort.host, port: unitControlPort),
                        unitControlCHAP: unitControlCHAP,
                        targets: served,
                        directory: directory,
                        configFile: configFile,
                        process: process
                    )
                }
                let log = process.outputTail()
                _ = await Task { await process.terminate(gracePeriod: .zero) }.value
                try Task.checkCancellation()
                let commandLine = CommandResult.render(process.commandLine)
                if !ready {
                    throw TestSupportError(.startFailed, "`\(commandLine)` was not listening on \(LoopbackPort.host):\(port) within \(configuration.startTimeout); its log: \(log)")
                }
                // istgt exits when a portal cannot be bound; anything else is
                // a real failure (a config it rejects, a missing file).
                guard log.contains("istgt_open_portal") || log.contains("listen error") || log.contains("bind") else {
                    throw TestSupportError(.startFailed, "`\(commandLine)` exited before it was ready; its log: \(log)")
                }
                reasons.append("ports \(port)/\(unitControlPort) were taken: \(log.split(separator: "\n").last ?? "")")
            }
            throw TestSupportError(.startFailed, "istgt did not start in \(startAttempts) attempts: \(reasons.joined(separator: "; "))")
        } catch {
            directory.remove()
            throw error
        }
    }

    private static func randomSecret() -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        return String((0..<16).map { _ in alphabet.randomElement()! })
    }

    /// SIGTERM, up to 10 s for istgt to exit, then SIGKILL; removes the
    /// scratch directory. Idempotent.
    public func stop() async {
        let alreadyStopped = stopped.withLockedValue { stopped in
            defer { stopped = true }
            return stopped
        }
        guard !alreadyStopped else {
            return
        }
        await process.terminate(gracePeriod: Self.terminationGracePeriod)
        directory.remove()
    }

    public func kill() async {
        // Not shielded from cancellation on purpose: SIGKILL is sent before the first wait.
        await process.terminate(gracePeriod: .zero)
    }

}

/// Starts istgt with `configuration`, runs `body` with it, and stops it on
/// every path out of `body`, thrown errors and cancellation included.
public func withIstgt<Result>(
    _ configuration: IstgtConfiguration,
    _ body: (IstgtTarget) async throws -> Result
) async throws -> Result {
    try await TargetSlots.run({ try await IstgtTarget.start(configuration) }, body)
}
