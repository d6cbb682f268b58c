// LIO, the Linux kernel's iSCSI target, in a QEMU guest (TCG, no KVM needed) reachable on a
// loopback port through QEMU's user-mode port forwarding, and its removal: QEMU by PID,
// scratch directory with the LUNs' sparse files.
//
// The guest boots Debian's kernel with a busybox initramfs (LIOGuestImage) and builds the
// targets from configfs requests the host sends over a serial control port (LIOControlChannel),
// so a test can also change the running target (an ALUA state) and reboot the guest.

import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

public final class LIOTarget: ISCSITargetDaemon {
    /// TPG 1's portal: 127.0.0.1 and the host port forwarded to the guest's 3260.
    public let portal: Portal
    /// TPG 2's portal (forwarded to 3261), where targets with a standby port group are also served.
    public let standbyPortal: Portal
    public let targets: [ServedTarget]
    public let directory: ScratchDirectory
    public let configuration: LIOConfiguration
    public let image: LIOGuestImage
    /// Seconds from QEMU's start (or the reboot request) to the first successful login.
    public var bootSeconds: Double {
        lastBoot.withLockedValue { $0 }
    }
    private let lastBoot = NIOLockedValueBox(0.0)

    let control: LIOControlChannel
    private let process: ChildProcess
    private let stopped = NIOLockedValueBox(false)

    public var pid: pid_t {
        process.pid
    }

    /// The serial console (kernel and init messages), for failure reports.
    public var consoleLog: String {
        directory.file("console.log")
    }

    private init(
        portal: Portal,
        standbyPortal: Portal,
        targets: [ServedTarget],
        directory: ScratchDirectory,
        configuration: LIOConfiguration,
        image: LIOGuestImage,
        control: LIOControlChannel,
        process: ChildProcess
    ) {
        self.portal = portal
        self.standbyPortal = standbyPortal
        self.targets = targets
        self.directory = directory
        self.configuration = configuration
        self.image = image
        self.control = control
        self.process = process
    }

    /// A lost race for a host port (QEMU cannot bind its forward and exits) is retried.
    private static let startAttempts = 5

    // MARK: Starting

    /// Builds (or takes from the cache) the guest image, boots it, configures every target and
    /// waits for a real login, or cleans up and throws one error saying which step failed.
    public static func start(_ configuration: LIOConfiguration) async throws -> LIOTarget {
        try configuration.validate()
        let qemu = try ExternalTool.qemuSystem.path()
        _ = try ExternalTool.iscsiInq.path()
        let image = try await LIOGuestImage.prepared()
        let directory = try ScratchDirectory(prefix: "lio")
        do {
            var served: [ServedTarget] = []
            var disks: [(serial: String, file: String)] = []
            for (index, spec) in configuration.targets.enumerated() {
                var luns: [ServedLUN] = []
                for lun in spec.luns {
                    guard case .file(let size) = lun.backing else { continue }
                    let serial = diskSerial(targetIndex: index, lun: lun.number)
                    let file = try directory.createSparseFile(serial + ".img", size: size)
                    disks.append((serial, file))
                    luns.append(ServedLUN(number: lun.number, size: size, backingFile: file, thinProvisioning: lun.thinProvisioning))
                }
                served.append(ServedTarget(iqn: spec.iqn, luns: luns, chap: spec.chap))
            }
            let started = ContinuousClock.now
            let (process, control, ports) = try await launch(qemu: qemu, image: image, disks: disks, configuration: configuration, directory: directory)
            let target = LIOTarget(
                portal: Portal(host: LoopbackPort.host, port: ports[0]),
                standbyPortal: Portal(host: LoopbackPort.host, port: ports[1]),
                targets: served,
                directory: directory,
                configuration: configuration,
                image: image,
                control: control,
                process: process
            )
            do {
                try await target.configure()
                try await target.awaitLogin()
            } catch {
                let console = TextFile.tail(of: target.consoleLog, maxBytes: 1500)
                await target.stopShielded()
                throw TestSupportError((error as? TestSupportError)?.code ?? .startFailed, "\(error); guest console: \(console)")
            }
            target.recordBoot(since: started)
            return target
        } catch {
            directory.remove()
            throw error
        }
    }

    private static func launch(
        qemu: String,
        image: LIOGuestImage,
        disks: [(serial: String, file: String)],
        configuration: LIOConfiguration,
        directory: ScratchDirectory
    ) async throws -> (ChildProcess, LIOControlChannel, [Int]) {
        var reasons: [String] = []
        for attempt in 1...startAttempts {
            let ports = [try LoopbackPort.reserve(), try LoopbackPort.reserve()]
            let socket = directory.file("control-\(attempt).sock")
            var arguments = [
                "-machine", "q35,accel=tcg", "-cpu", "max", "-smp", "1", "-m", String(configuration.memoryMiB),
                "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none",
                "-serial", "file:" + directory.file("console.log"),
                "-chardev", "socket,id=control,path=\(socket),server=on,wait=off",
                "-serial", "chardev:control",
                "-kernel", image.kernel, "-initrd", image.initramfs,
                // panic=0: a panicking guest stops rather than reboots, and the boot wait reports it.
                "-append", "console=ttyS0 panic=0 loglevel=4",
                // restrict=on: the guest reaches nothing beyond the forwarded ports.
                "-netdev", "user,id=net0,restrict=on"
                    + zip(ports, guestPorts).map { ",hostfwd=tcp:\(LoopbackPort.host):\($0)-:\($1)" }.joined(),
                "-device", "virtio-net-pci,netdev=net0,romfile=",
            ]
            for (index, disk) in disks.enumerated() {
                arguments += [
                    "-drive", "file=\(disk.file),format=raw,if=none,id=disk\(index),cache=writeback,discard=unmap,aio=threads",
                    "-device", "virtio-blk-pci,drive=disk\(index),serial=\(disk.serial)",
                ]
            }
            let process = try await ChildProcess.spawn(executable: qemu, arguments: arguments, stdoutPath: directory.file("qemu-\(attempt).log"))
            do {
                let control = try await LIOControlChannel.connect(to: socket, timeout: .seconds(20))
                let console = directory.file("console.log")
                _ = try await control.awaitBoot(timeout: configuration.bootTimeout) {
                    Self.bootProblem(process, console: console)
                }
                return (process, control, ports)
            } catch {
                let log = process.outputTail()
                _ = await Task { await process.terminate(gracePeriod: .zero) }.value
                if log.contains("Could not set up host forwarding rule") {
                    reasons.append("a forwarded port was taken: \(log)")
                    continue
                }
                throw TestSupportError(
                    .startFailed,
                    "the LIO guest did not boot (`\(CommandResult.render(process.commandLine))`): \(error); QEMU: \(log); guest console: \(TextFile.tail(of: directory.file("console.log"), maxBytes: 1500))"
                )
            }
        }
        throw TestSupportError(.startFailed, "QEMU could not forward loopback ports in \(startAttempts) attempts: \(reasons.joined(separator: "; "))")
    }

    /// Why the boot cannot succeed any more, or nil while it still may.
    private static func bootProblem(_ process: ChildProcess, console: String) -> String? {
        if let status = process.pollExit() {
            return "QEMU ended (\(status)) before the guest booted: \(process.outputTail())"
        }
        let text = TextFile.tail(of: console, maxBytes: 4000)
        if let panic = text.range(of: "Kernel panic") {
            return "the guest kernel panicked: \(text[panic.lowerBound...].prefix(300))"
        }
        return nil
    }

    /// Finds each LUN's disk in the guest and applies every configfs change.
    private func configure() async throws {
        var devices: [String: String] = [:]
        for (index, spec) in configuration.targets.enumerated() {
            for lun in spec.luns {
                let serial = Self.diskSerial(targetIndex: index, lun: lun.number)
                switch try await control.request("disk", serial, timeout: Self.requestTimeout) {
                case .ok(let device): devices[serial] = device
                case .failed(let reason), .booted(let reason):
                    throw TestSupportError(.startFailed, "LIO guest: the disk for \(spec.iqn) LUN \(lun.number) is missing: \(reason)")
                }
            }
        }
        for change in Self.changes(for: configuration, devices: devices) {
            try await apply(change)
        }
    }

    /// Port forwarding accepts TCP before the guest listens, so readiness is a real login
    /// (iscsi-inq: login, INQUIRY, logout) through the forwarded port to the first target.
    private func awaitLogin() async throws {
        guard let spec = configuration.targets.first, let lun = spec.luns.first else { return }
        var arguments: [String] = []
        if let initiator = spec.allowedInitiators?.first {
            arguments += ["-i", initiator]
        }
        arguments.append(portal.libiscsiURL(target: spec.iqn, lun: lun.number, chap: spec.chap))
        var last = "no attempt finished"
        let loggedIn = try await BoundedWait.until(timeout: configuration.loginTimeout, interval: .milliseconds(500)) {
            let result = try await ExternalCommand.run(.iscsiInq, arguments, timeout: .seconds(20))
            last = CommandResult.summary(result.stderr, or: result.stdout)
            return result.succeeded
        }
        guard loggedIn else {
            throw TestSupportError(
                .startFailed,
                "LIO guest is configured, but no login to \(spec.iqn) through \(portal) succeeded within \(configuration.loginTimeout) (is the port forward answering?); last iscsi-inq: \(last)"
            )
        }
    }

    // MARK: Stopping and rebooting

    public func stop() async {
        guard stopped.withLockedValue({ was in defer { was = true }; return !was }) else {
            return
        }
        await process.terminate(gracePeriod: .seconds(5))
        directory.remove()
    }

    public func kill() async {
        await process.terminate(gracePeriod: .zero)
    }

    /// Reboots the guest (an immediate reset, as a power cycle: sessions drop without logout)
    /// and waits until it serves the same targets, on the same ports and disks, again.
    public func reboot() async throws {
        let started = ContinuousClock.now
        let answer = try await control.request("reboot", timeout: Self.requestTimeout)
        guard case .ok = answer else {
            throw TestSupportError(.commandFailed, "LIO guest refused to reboot: \(answer)")
        }
        let process = self.process
        let console = consoleLog
        _ = try await control.awaitBoot(timeout: configuration.bootTimeout) {
            Self.bootProblem(process, console: console)
        }
        try await configure()
        try await awaitLogin()
        recordBoot(since: started)
    }

    private func recordBoot(since started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        lastBoot.withLockedValue { $0 = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18 }
    }
}

/// Boots a LIO guest with `configuration`, runs `body` with it, and stops QEMU on every path
/// out of `body`, thrown errors and cancellation included.
public func withLIO<Result>(
    _ configuration: LIOConfiguration,
    _ body: (LIOTarget) async throws -> Result
) async throws -> Result {
    try await TargetSlots.run({ try await LIOTarget.start(configuration) }, body)
}
