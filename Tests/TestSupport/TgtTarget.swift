// A running tgtd on its own loopback port and control socket (or inside a
// network namespace on the addresses it is given), configured through tgtadm,
// and its removal: targets, tgtd, socket files, scratch dir.

import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

public final class TgtTarget: ISCSITargetDaemon {
    public let portal: Portal
    /// Every portal tgtd listens on: `portal` alone unless the configuration places tgtd in a
    /// network namespace with several addresses.
    public let portals: [Portal]
    public let targets: [ServedTarget]
    public let directory: ScratchDirectory
    /// The `-C` number naming this tgtd's control socket.
    public let controlNumber: Int

    private let currentProcess: NIOLockedValueBox<ChildProcess>
    private let tgtdPath: String
    private let tgtadmPath: String
    private let configuration: TgtConfiguration
    private let stopped = NIOLockedValueBox(false)

    /// The running tgtd (a new one after `restart`).
    private var process: ChildProcess {
        currentProcess.withLockedValue { $0 }
    }

    public var pid: pid_t {
        process.pid
    }

    /// tids are assigned in configuration order, starting at 1.
    public func tid(of iqn: String) -> Int? {
        targets.firstIndex { $0.iqn == iqn }.map { $0 + 1 }
    }

    private init(
        portals: [Portal],
        targets: [ServedTarget],
        directory: ScratchDirectory,
        controlNumber: Int,
        process: ChildProcess,
        tgtdPath: String,
        tgtadmPath: String,
        configuration: TgtConfiguration
    ) {
        self.portal = portals[0]
        self.portals = portals
        self.targets = targets
        self.directory = directory
        self.controlNumber = controlNumber
        self.currentProcess = NIOLockedValueBox(process)
        self.tgtdPath = tgtdPath
        self.tgtadmPath = tgtadmPath
        self.configuration = configuration
    }

    // MARK: Starting

    /// `-C` numbers handed out in this process; other processes' tgtd hold a
    /// lock on theirs, which makes ours exit at once, and we retry.
    private static let controlNumbers = NIOLockedValueBox<Set<Int>>([])

    /// Bind races (another process taking our port or control number first)
    /// are retried with fresh ones this many times.
    private static let startAttempts = 5

    /// Where tgtd keeps control sockets; it never removes them itself.
    private static let socketDirectory = "/var/run/tgtd"

    /// Starts tgtd and configures every target, or cleans up and throws an
    /// error naming the command that failed with its output.
    public static func start(_ configuration: TgtConfiguration) async throws -> TgtTarget {
        try configuration.validate()
        let tgtd = try ExternalTool.tgtd.path()
        let tgtadm = try ExternalTool.tgtadm.path()
        let directory = try ScratchDirectory(prefix: "tgt")
        do {
            let plannedTargets = try createBackingFiles(configuration, in: directory)
            let (process, controlNumber, portals) = try await launch(
                tgtd: tgtd,
                tgtadm: tgtadm,
                directory: directory,
                configuration: configuration
            )
            let target = TgtTarget(
                portals: portals,
                targets: plannedTargets,
                directory: directory,
                controlNumber: controlNumber,
                process: process,
                tgtdPath: tgtd,
                tgtadmPath: tgtadm,
                configuration: configuration
            )
            do {
                try await target.configure(configuration)
            } catch {
                await target.stopShielded()
                throw error
            }
            return target
        } catch {
            directory.remove()
            throw error
        }
    }

    private static func createBackingFiles(
        _ configuration: TgtConfiguration,
        in directory: ScratchDirectory
    ) throws(TestSupportError) -> [ServedTarget] {
        var served: [ServedTarget] = []
        for (index, spec) in configuration.targets.enumerated() {
            var luns: [ServedLUN] = []
            for lun in spec.luns {
                switch lun.backing {
                case .file(let size):
                    let path = try directory.createSparseFile("t\(index + 1)-lun\(lun.number).img", size: size)
                    luns.append(ServedLUN(number: lun.number, size: size, backingFile: path, thinProvisioning: lun.thinProvisioning))
                case .null:
                    luns.append(ServedLUN(number: lun.number, size: 1 << 40, backingFile: nil, thinProvisioning: lun.thinProvisioning))
                }
            }
            served.append(ServedTarget(iqn: spec.iqn, luns: luns, chap: spec.chap))
        }
        return served
    }

    private enum LaunchOutcome {
        case ready
        /// Lost a race for the port or control number; try fresh ones.
        case retry(String)
        case failed(String)
        case timedOut
    }

    private static func launch(
        tgtd: String,
        tgtadm: String,
        directory: ScratchDirectory,
        configuration: TgtConfiguration
    ) async throws -> (ChildProcess, Int, [Portal]) {
        var reasons: [String] = []
        let timeout = configuration.startTimeout
        for attempt in 1...startAttempts {
            let portals = try configuration.placement?.portals ?? [Portal(host: LoopbackPort.host, port: LoopbackPort.reserve())]
            let controlNumber = reserveControlNumber()
            _ = try directory.write(String(controlNumber), to: ScratchDirectory.tgtControlNumberFile)
            let process = try await spawn(
                tgtd: tgtd,
                controlNumber: controlNumber,
                portals: portals,
                namespace: configuration.placement?.namespace,
                stdoutPath: directory.file("tgtd-\(attempt).log")
            )
            let outcome = try await awaitReady(process, tgtadm: tgtadm, controlNumber: controlNumber, portals: portals, placed: configuration.placement != nil, timeout: timeout)
            switch outcome {
            case .ready:
                return (process, controlNumber, portals)
            case .retry(let reason):
                reasons.append(reason)
                await killAndForget(process, controlNumber: controlNumber)
            case .failed(let reason):
                await killAndForget(process, controlNumber: controlNumber)
                throw TestSupportError(.startFailed, "`\(CommandResult.render(process.commandLine))` failed: \(reason)")
            case .timedOut:
                let log = process.outputTail()
                await killAndForget(process, controlNumber: controlNumber)
                throw TestSupportError(.startFailed, "`\(CommandResult.render(process.commandLine))` was not listening on \(portals.map(\.description).joined(separator: ", ")) and answering `tgtadm -C \(controlNumber)` within \(timeout); its log: \(log)")
            }
        }
        throw TestSupportError(.startFailed, "tgtd did not start in \(startAttempts) attempts: \(reasons.joined(separator: "; "))")
    }

    /// tgtd in the foreground with one iSCSI portal per address; `ip netns exec` (which execs, so
    /// the PID stays tgtd's) puts it in `namespace`. The control socket is a path under
    /// /var/run/tgtd, which every network namespace shares, so tgtadm reaches it from here.
    private static func spawn(
        tgtd: String,
        controlNumber: Int,
        portals: [Portal],
        namespace: String?,
        stdoutPath: String
    ) async throws -> ChildProcess {
        let arguments = ["-f", "-C", String(controlNumber), "--iscsi", portals.map { "portal=\($0)" }.joined(separator: ",")]
        guard let namespace else {
            return try await ChildProcess.spawn(executable: tgtd, arguments: arguments, stdoutPath: stdoutPath)
        }
        return try await ChildProcess.spawn(
            executable: try ExternalTool.ip.path(),
            arguments: ["netns", "exec", namespace, tgtd] + arguments,
            stdoutPath: stdoutPath
        )
    }

    /// Ready means: tgtd itself listens on every portal, a loopback one
    /// accepts a connection, and tgtd answers on its control socket. (A
    /// portal in another namespace cannot be connected to from here; its
    /// listening socket in tgtd's own /proc/PID/net/tcp has to do.)
    private static func awaitReady(
        _ process: ChildProcess,
        tgtadm: String,
        controlNumber: Int,
        portals: [Portal],
        placed: Bool,
        timeout: Duration
    ) async throws -> LaunchOutcome {
        var outcome = LaunchOutcome.timedOut
        _ = try await BoundedWait.until(timeout: timeout, interval: .milliseconds(50)) {
            if let status = process.pollExit() {
                let log = process.outputTail()
                outcome = log.contains("another tgtd is using")
                    ? .retry("control number \(controlNumber) is taken")
                    : .failed("tgtd ended (\(status)) before it was ready; its log: \(log)")
                return true
            }
            // When the portal cannot be bound, tgtd does not exit: it falls
            // back to listening on 0.0.0.0:3260 and [::]:3260. Catch that.
            let log = TextFile.read(process.stdoutPath)
            if log.contains("failed to create/bind to portal") || log.contains("unable to bind server socket") {
                // In a namespace of the test's own nobody else holds the port: the address is missing.
                outcome = placed
                    ? .failed("tgtd could not bind \(portals.map(\.description).joined(separator: ", ")); its log: \(log)")
                    : .retry("port \(portals[0].port) was taken before tgtd could bind it")
                return true
            }
            guard portals.allSatisfy({ LoopbackPort.isListening(pid: process.pid, address: $0.host, port: $0.port) }),
                  placed || LoopbackPort.isAccepting(port: portals[0].port)
            else {
                return false
            }
            let answer = try await ExternalCommand.run(
                executable: tgtadm,
                ["-C", String(controlNumber), "--op", "show", "--mode", "system"],
                timeout: .seconds(5)
            )
            if answer.succeeded {
                outcome = .ready
                return true
            }
            return false
        }
        if Task.isCancelled {
            await killAndForget(process, controlNumber: controlNumber)
            throw CancellationError()
        }
        return outcome
    }

    /// A `-C` number not yet used in this process. tgtd accepts 0...32767;
    /// the low ones are left to people starting tgtd by hand.
    public static func reserveControlNumber() -> Int {
        controlNumbers.withLockedValue { used in
            while true {
                let number = Int.random(in: 1000..<32768)
                if used.insert(number).inserted {
                    return number
                }
            }
        }
    }

    /// For a tgtd that never became ours to configure: no graceful path.
    private static func killAndForget(_ process: ChildProcess, controlNumber: Int) async {
        _ = await Task { await process.terminate(gracePeriod: .zero) }.value
        removeSocketFiles(controlNumber: controlNumber, ifOwnedBy: process)
    }

    /// tgtd leaves socket.N and socket.N.lock behind; remove ours once our
    /// tgtd is gone (if it never got the lock, the files are someone else's).
    private static func removeSocketFiles(controlNumber: Int, ifOwnedBy process: ChildProcess) {
        guard process.pollExit() != nil, !TextFile.read(process.stdoutPath).contains("another tgtd is using") else {
            return
        }
        let base = socketDirectory + "/socket.\(controlNumber)"
        unlink(base)
        unlink(base + ".lock")
    }

    /// For a tgtd of a killed test run: removes its socket files unless a
    /// live tgtd (one that reused the number since) holds the lock file.
    static func removeSocketFilesIfUnused(controlNumber: Int) {
        let base = socketDirectory + "/socket.\(controlNumber)"
        let descriptor = open(base + ".lock", O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else {
            return
        }
        defer { close(descriptor) }
        // tgtd takes the lock with lockf(F_TLOCK); F_TEST sees it from here.
        guard lockf(descriptor, F_TEST, 0) == 0 else {
            return
        }
        unlink(base)
        unlink(base + ".lock")
    }

    // MARK: Configuring

    private func configure(_ configuration: TgtConfiguration) async throws {
        var createdAccounts: Set<String> = []
        for (index, spec) in configuration.targets.enumerated() {
            let tid = String(index + 1)
            let served = targets[index]
            try await tgtadm(["--lld", "iscsi", "--op", "new", "--mode", "target", "--tid", tid, "-T", spec.iqn])
            for (lun, servedLUN) in zip(spec.luns, served.luns) {
                var arguments = ["--lld", "iscsi", "--op", "new", "--mode", "logicalunit", "--tid", tid, "--lun", String(lun.number)]
                if let path = servedLUN.backingFile {
                    arguments += ["-b", path]
                } else {
                    arguments += ["--bstype", "null", "-b", "/dev/null"]
                }
                try await tgtadm(arguments)
                if lun.thinProvisioning {
                    try await tgtadm(["--lld", "iscsi", "--op", "update", "--mode", "logicalunit", "--tid", tid, "--lun", String(lun.number), "--params", "thin_provisioning=1"])
                }
            }
            try await tgtadm(["--lld", "iscsi", "--op", "bind", "--mode", "target", "--tid", tid, "-I", "ALL"])
            if let chap = spec.chap {
                for (credentials, outgoing) in [(chap.initiator, false), (chap.target, true)] {
                    guard let credentials else {
                        continue
                    }
                    if createdAccounts.insert(credentials.user).inserted {
                        try await tgtadm(["--lld", "iscsi", "--op", "new", "--mode", "account", "--user", credentials.user, "--password", credentials.secret])
                    }
                    try await tgtadm(["--lld", "iscsi", "--op", "bind", "--mode", "account", "--tid", tid, "--user", credentials.user] + (outgoing ? ["--outgoing"] : []))
                }
            }
            for parameter in spec.parameters {
                try await tgtadm(["--lld", "iscsi", "--op", "update", "--mode", "target", "--tid", tid, "--name", parameter.key, "--value", parameter.value])
            }
            if !spec.parameters.isEmpty {
                // tgtadm accepts some values it then stores differently; only
                // what `show` prints back is what the target will negotiate.
                let shown = try await parameters(tid: index + 1)
                for parameter in spec.parameters where shown[parameter.key] != parameter.value {
                    throw TestSupportError(
                        .startFailed,
                        "\(spec.iqn): forced \(parameter) but `tgtadm -C \(controlNumber) --op show --mode target --tid \(tid)` shows \(parameter.key)=\(shown[parameter.key] ?? "nothing")"
                    )
                }
            }
        }
    }

    /// Runs `tgtadm -C N` with `arguments` against this tgtd and throws,
    /// naming the command and its stderr, unless it succeeds.
    @discardableResult
    public func tgtadm(_ arguments: [String], timeout: Duration = .seconds(10)) async throws -> CommandResult {
        try await ExternalCommand.run(executable: tgtadmPath, ["-C", String(controlNumber)] + arguments, timeout: timeout).check()
    }

    /// The negotiation keys of target `tid` as tgtd will offer them.
    public func parameters(tid: Int) async throws -> [String: String] {
        let shown = try await tgtadm(["--lld", "iscsi", "--op", "show", "--mode", "target", "--tid", String(tid)])
        var parameters: [String: String] = [:]
        for line in shown.stdout.split(separator: "\n") {
            let pair = line.split(separator: "=", maxSplits: 1)
            if pair.count == 2 {
                parameters[String(pair[0]).trimmingCharacters(in: .whitespaces)] = String(pair[1]).trimmingCharacters(in: .whitespaces)
            }
        }
        return parameters
    }

    // MARK: Stopping

    /// Deletes the targets (ending their sessions), asks tgtd to exit, kills
    /// it by PID if it has not within a few seconds (it ignores SIGTERM), and
    /// removes its socket files and scratch directory. Idempotent.
    public func stop() async {
        let alreadyStopped = stopped.withLockedValue { stopped in
            defer { stopped = true }
            return stopped
        }
        guard !alreadyStopped else {
            return
        }
        if process.isRunning {
            for tid in targets.indices.map({ String($0 + 1) }) {
                _ = try? await ExternalCommand.run(
                    executable: tgtadmPath,
                    ["-C", String(controlNumber), "--lld", "iscsi", "--op", "delete", "--mode", "target", "--tid", tid, "--force"],
                    timeout: .seconds(10)
                )
            }
            _ = try? await ExternalCommand.run(
                executable: tgtadmPath,
                ["-C", String(controlNumber), "--op", "delete", "--mode", "system"],
                timeout: .seconds(10)
            )
            if await process.waitForExit(timeout: .seconds(5)) == nil {
                await process.terminate(gracePeriod: .zero)
            }
        }
        Self.removeSocketFiles(controlNumber: controlNumber, ifOwnedBy: process)
        directory.remove()
    }

    // MARK: Outages

    /// The connections tgtd holds for target `tid`: each session id (its I_T nexus) with its connection ids.
    public func connections(tid: Int) async throws -> [(sid: Int, cid: Int)] {
        let shown = try await tgtadm(["--lld", "iscsi", "--op", "show", "--mode", "conn", "--tid", String(tid)])
        var found: [(sid: Int, cid: Int)] = []
        var sid: Int?
        for line in shown.stdout.split(separator: "\n") {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("Session:") {
                sid = Int(text.dropFirst("Session:".count).trimmingCharacters(in: .whitespaces))
            } else if text.hasPrefix("Connection:"), let sid,
                      let cid = Int(text.dropFirst("Connection:".count).trimmingCharacters(in: .whitespaces)) {
                found.append((sid, cid))
            }
        }
        return found
    }

    /// Deletes every connection of target `tid` (tgtd closes their sockets); returns how many there were.
    @discardableResult
    public func dropConnections(tid: Int) async throws -> Int {
        let current = try await connections(tid: tid)
        for (sid, cid) in current {
            try await tgtadm(["--lld", "iscsi", "--op", "delete", "--mode", "conn", "--tid", String(tid), "--sid", String(sid), "--cid", String(cid)])
        }
        return current.count
    }

    /// Kills tgtd by PID at once, as a crash would: its connections reset, its port stops listening.
    public func crash() async {
        let process = self.process
        await process.terminate(gracePeriod: .zero)
        Self.removeSocketFiles(controlNumber: controlNumber, ifOwnedBy: process)
    }

    /// Starts a new tgtd on the same portals and control number and configures the same targets
    /// on the same backing files: the target came back after `crash()`.
    public func restart() async throws {
        let attempt = String(Int.random(in: 100..<1_000_000))
        let process = try await Self.spawn(
            tgtd: tgtdPath,
            controlNumber: controlNumber,
            portals: portals,
            namespace: configuration.placement?.namespace,
            stdoutPath: directory.file("tgtd-restart-\(attempt).log")
        )
        currentProcess.withLockedValue { $0 = process }
        let outcome = try await Self.awaitReady(
            process,
            tgtadm: tgtadmPath,
            controlNumber: controlNumber,
            portals: portals,
            placed: configuration.placement != nil,
            timeout: configuration.startTimeout
        )
        guard case .ready = outcome else {
            throw TestSupportError(.startFailed, "the restarted tgtd was not ready on \(portals.map(\.description).joined(separator: ", ")): \(outcome); its log: \(process.outputTail())")
        }
        try await configure(configuration)
    }

    /// Stops tgtd with SIGSTOP: a silent loss, its sockets stay open and nothing answers, no
    /// FIN, no RST. `thaw()` must follow before `stop()`, whose tgtadm calls a frozen tgtd
    /// would not answer.
    public func freeze() {
        process.send(signal: SIGSTOP)
    }

    /// Lets a frozen tgtd run again (SIGCONT).
    public func thaw() {
        process.send(signal: SIGCONT)
    }

    public func kill() async {
        // Not shielded from cancellation on purpose: SIGKILL is sent before the first wait.
        await process.terminate(gracePeriod: .zero)
    }

}

/// Starts tgtd with `configuration`, runs `body` with it, and stops it on
/// every path out of `body`, thrown errors and cancellation included.
public func withTgt<Result>(
    _ configuration: TgtConfiguration,
    _ body: (TgtTarget) async throws -> Result
) async throws -> Result {
    try await TargetSlots.run({ try await TgtTarget.start(configuration) }, body)
}
