// `vdiskctl export serve`: one iSCSI target whose LUNs are datastore disks (or raw
// devices), served in the foreground until SIGTERM or SIGINT.

import ArgumentParser
import BlockDevice
import Datastore
import Control
import Export
import Foundation
import ISCSI
import ISCSIAddress
import Logging
import NIOCore
import NIOPosix
import SCSI
import VSCSI

struct ExportServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve disks as the LUNs of one iSCSI target until SIGTERM or SIGINT.",
        discussion: """
            LUN n is the n-th DISK (or the n-th --raw device). The target IQN and the portals
            are printed once the listeners are up. SIGTERM or SIGINT stops accepting, lets
            commands in flight finish, logs every session out, closes the disks, unmounts
            the datastore and exits 0.
            """
    )

    @Argument(help: ArgumentHelp("The datastore: an image file or an iscsi:// LUN URL (omit with --raw).", valueName: "datastore"))
    var datastore: String?
    @Argument(help: ArgumentHelp("Disks of the datastore to export, LUN 0 first.", valueName: "disk"))
    var disks: [String] = []

    @Option(name: .customLong("raw"), help: ArgumentHelp("Export this image file or iscsi:// URL as a plain block device (repeatable).", valueName: "url|file"))
    var raw: [String] = []
    @Option(name: .customLong("listen"), help: ArgumentHelp("A portal to listen on (repeatable; default 127.0.0.1:3260).", valueName: "host:port"))
    var listen: [String] = []
    @Option(help: "The target's IQN.")
    var iqn = "iqn.2025-01.io.vdiskd:export"
    @Flag(help: "Export write-protected: every write is DATA PROTECT.")
    var readOnly = false
    @Option(help: "Require CHAP from initiators with this user name.")
    var chapUser: String?
    @Option(help: ArgumentHelp("The file holding the CHAP secret (first line).", valueName: "file"))
    var chapSecretFile: String?
    @Option(help: "Answer initiators' mutual CHAP with this user name.")
    var mutualUser: String?
    @Option(help: ArgumentHelp("The file holding the mutual CHAP secret (first line).", valueName: "file"))
    var mutualSecretFile: String?
    @Option(name: .customLong("allow-initiator"), help: ArgumentHelp("Allow only these initiator IQNs (repeatable; default: all).", valueName: "iqn"))
    var allowedInitiators: [String] = []
    @Option(help: "Seconds of silence before a NOP-In ping (0 turns pings off).")
    var nopInterval = 15
    @Option(help: "Seconds an unanswered NOP-In may wait before the connection is dropped.")
    var nopTimeout = 10
    @Option(help: ArgumentHelp("Write data all connections together may buffer (default 512MiB); past it writes get BUSY.", valueName: "bytes"))
    var writeBudget: ByteCount?
    @Option(help: ArgumentHelp("Write data one connection may buffer (default 128MiB); past it writes get TASK SET FULL.", valueName: "bytes"))
    var connectionWriteBudget: ByteCount?
    @Option(help: "Seconds a connection may take to log in before it is closed.")
    var loginTimeout = 15
    @Option(help: "Seconds a write may wait for its next Data-Out before it fails (0: for ever).")
    var dataPhaseTimeout = 20
    @Option(help: "Connections not yet logged in the export holds at once; more are closed on arrival.")
    var maxPendingLogins = 64
    @Option(help: "Connections not yet logged in from one source address; more are closed on arrival.")
    var maxPendingLoginsPerSource = 16
    @Option(help: "Sessions one initiator name may hold; more logins get 0x0302 (out of resources).")
    var maxSessionsPerInitiator = 32
    @Option(help: "File descriptors client connections leave free below the process limit (0: no reserve).")
    var descriptorReserve = 64
    @Option(help: ArgumentHelp("Run SANITIZE at most this many bytes of the disk per second (default: unlimited).", valueName: "bytes"))
    var sanitizeRate: ByteCount?
    @Flag(help: "Log every login and connection to stderr.")
    var verbose = false

    @OptionGroup var host: HostOptions

    func validate() throws {
        if raw.isEmpty {
            guard datastore != nil, !disks.isEmpty else {
                throw ValidationError("name a DATASTORE and at least one DISK, or use --raw")
            }
        } else if datastore != nil || !disks.isEmpty {
            throw ValidationError("--raw exports plain devices; do not name a datastore or disks with it")
        }
        if (chapUser == nil) != (chapSecretFile == nil) {
            throw ValidationError("--chap-user and --chap-secret-file go together")
        }
        if (mutualUser == nil) != (mutualSecretFile == nil) {
            throw ValidationError("--mutual-user and --mutual-secret-file go together")
        }
        if mutualUser != nil && chapUser == nil {
            throw ValidationError("mutual CHAP needs one-way CHAP too (--chap-user)")
        }
        for portal in listen {
            do {
                _ = try ISCSIEndpoint(parsing: portal, allowsPortZero: true)
            } catch {
                throw ValidationError("--listen \(portal) is not HOST:PORT: \(error.reason)")
            }
        }
        if let sanitizeRate, sanitizeRate.bytes == 0 { throw ValidationError("--sanitize-rate must be more than 0 bytes") }
        guard (1...600).contains(loginTimeout) else { throw ValidationError("--login-timeout must be between 1 and 600 seconds") }
        guard dataPhaseTimeout >= 0 else { throw ValidationError("--data-phase-timeout must be ≥ 0 seconds") }
        guard nopInterval >= 0, nopTimeout > 0 else { throw ValidationError("--nop-interval must be ≥ 0 and --nop-timeout > 0") }
        guard (1...65535).contains(maxPendingLogins) else { throw ValidationError("--max-pending-logins must be between 1 and 65535") }
        guard (1...65535).contains(maxPendingLoginsPerSource) else {
            throw ValidationError("--max-pending-logins-per-source must be between 1 and 65535")
        }
        guard (1...65535).contains(maxSessionsPerInitiator) else {
            throw ValidationError("--max-sessions-per-initiator must be between 1 and 65535")
        }
        guard (0...65535).contains(descriptorReserve) else { throw ValidationError("--descriptor-reserve must be between 0 and 65535") }
    }

    func run() async throws {
        try await DatastoreCommandRunner.run {
            let stop = StopRequest()
            defer { stop.release() }
            let access = try accessPolicy()
            if raw.isEmpty {
                try await serveDatastore(access: access, stop: stop)
            } else {
                try await serveRaw(access: access, stop: stop)
            }
        }
    }

    private func accessPolicy() throws -> TargetAccessPolicy {
        var policy = TargetAccessPolicy(allowedInitiators: Set(allowedInitiators))
        if let chapUser, let secret = try SecretSource.read(file: chapSecretFile, variable: nil, purpose: "CHAP secret") {
            policy.chap = CHAPCredentials(user: chapUser, secret: secret)
        }
        if let mutualUser, let secret = try SecretSource.read(file: mutualSecretFile, variable: nil, purpose: "mutual CHAP secret") {
            policy.mutualCHAP = CHAPCredentials(user: mutualUser, secret: secret)
        }
        return policy
    }

    private func serveRaw(access: TargetAccessPolicy, stop: StopRequest) async throws {
        var devices: [any BlockDevice] = []
        do {
            for spec in raw {
                devices.append(try await BlockDeviceLocator.open(spec, readOnly: readOnly))
            }
        } catch {
            for device in devices { try? await device.close() }
            throw error
        }
        let descriptors = raw.enumerated().map { index, spec in
            // A read-only image file cannot deallocate, but it is still a thin medium, and a
            // write-protected unit refuses UNMAP with DATA PROTECT before the device is asked.
            LogicalUnitDescriptor(
                uuid: Self.stableUUID(for: spec), name: URL(fileURLWithPath: spec).lastPathComponent,
                isThin: devices[index].capabilities.contains(.unmap) || (readOnly && !spec.lowercased().hasPrefix("iscsi://"))
            )
        }
        do {
            try await serve(zip(devices, descriptors).map { ServedExport.Disk(device: $0, descriptor: $1) }, access: access, stop: stop)
        } catch {
            for device in devices { try? await device.close() }
            throw error
        }
        for device in devices { try await device.close() }
    }

    private func serveDatastore(access: TargetAccessPolicy, stop: StopRequest) async throws {
        let location = try DatastoreLocation.parse([datastore!])
        try await DatastoreSession.withMounted(location, host) { store in
            var opened: [VirtualDisk] = []
            do {
                for name in disks {
                    let disk = try await DatastoreSession.retryingWhileLocked(host) {
                        try await store.openDisk(name: name, mode: readOnly ? .sharedReadOnly : .exclusive)
                    }
                    opened.append(disk)
                }
                // As the daemon presents a disk (VirtualDisk.exportedDisk): its UUID and name identify
                // the unit, a thin disk is a thin unit, a shared read-only open is write-protected.
                let served = opened.map { disk in
                    ServedExport.Disk(
                        device: disk,
                        descriptor: LogicalUnitDescriptor(uuid: disk.info.uuid, name: disk.name, isThin: disk.info.kind == .thin),
                        writeProtected: disk.mode == .sharedReadOnly
                    )
                }
                try await serve(served, access: access, stop: stop)
            } catch {
                for disk in opened { try? await disk.close() }
                throw error
            }
            for disk in opened { try await disk.close() }
        }
    }

    private func serve(_ disks: [ServedExport.Disk], access: TargetAccessPolicy, stop: StopRequest) async throws {
        let portals = (listen.isEmpty ? ["127.0.0.1:3260"] : listen).compactMap { try? ISCSIEndpoint(parsing: $0, allowsPortZero: true) }
        var logger = Logger(label: "vdiskctl.export")
        logger.logLevel = verbose ? .info : .warning
        let defaults = ExportConfiguration(portals: portals)
        let configuration = ExportConfiguration(
            portals: portals,
            pingInterval: nopInterval == 0 ? nil : .seconds(Int64(nopInterval)),
            pingTimeout: .seconds(Int64(nopTimeout)),
            loginTimeout: .seconds(Int64(loginTimeout)),
            connectionWriteBudget: connectionWriteBudget.map { Int(clamping: $0.bytes) } ?? defaults.connectionWriteBudget,
            exportWriteBudget: writeBudget.map { Int(clamping: $0.bytes) } ?? defaults.exportWriteBudget,
            dataPhaseTimeout: dataPhaseTimeout == 0 ? nil : .seconds(Int64(dataPhaseTimeout)),
            maximumPendingLogins: maxPendingLogins,
            maximumPendingLoginsPerSource: maxPendingLoginsPerSource,
            maximumSessionsPerInitiator: maxSessionsPerInitiator,
            descriptorReserve: descriptorReserve
        )
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, min(4, System.coreCount)))
        let export = ServedExport(
            iqn: iqn, access: access,
            disks: disks,
            readOnly: readOnly, sanitizeBytesPerSecond: sanitizeRate.map { Int(clamping: $0.bytes) },
            configuration: configuration, group: group, logger: logger
        )
        do {
            let bound = try await export.start()
            var banner = "target \(iqn)\n"
            for portal in bound { banner += "portal \(portal)\n" }
            for (index, disk) in disks.enumerated() {
                banner += "lun \(index) \(disk.descriptor.name) \(disk.descriptor.uuid.uuidString.lowercased())\n"
            }
            // Written in one piece and unbuffered: scripts wait for these lines before connecting.
            FileHandle.standardOutput.write(Data(banner.utf8))
            // Bounded only by the signal: one check every 100 ms.
            while !stop.isRequested {
                try? await Task.sleep(for: .milliseconds(100))
            }
        } catch {
            try? await export.stop()
            try? await group.shutdownGracefully()
            throw error
        }
        // A disk that cannot be flushed is reported, after the event loops are let go.
        var flushFailure: (any Error)?
        do { try await export.stop() } catch { flushFailure = error }
        try await group.shutdownGracefully()
        if let flushFailure { throw flushFailure }
    }

    /// A UUID that stays the same for the same device across runs (VPD 0x80/0x83 must be stable),
    /// made from what names the device and never from a credential: the serial number is
    /// shown to every initiator, and a hash of a password is a password to whoever guesses.
    static func stableUUID(for spec: String) -> UUID {
        let identity = deviceIdentity(spec)
        // Two FNV-1a 64-bit hashes with different offsets make the 128 bits.
        func fnv(_ seed: UInt64) -> UInt64 {
            var hash = seed
            for byte in identity.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01B3
            }
            return hash
        }
        let high = fnv(0xCBF2_9CE4_8422_2325), low = fnv(0x8422_2325_CBF2_9CE4)
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<8 {
            bytes[index] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(index)))
            bytes[8 + index] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(index)))
        }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    /// A file's path, or an iSCSI URL's portal, target and LUN without its user, password
    /// and query.
    static func deviceIdentity(_ spec: String) -> String {
        guard spec.lowercased().hasPrefix("iscsi://") else { return spec }
        if let url = try? ISCSITargetURL(parsing: spec) {
            return "iscsi://\(url.endpoint)/\(url.targetName)/\(url.lun)"
        }
        // Unparseable (opening it fails first): keep only what follows the credentials.
        let rest = spec.dropFirst("iscsi://".count)
        let afterCredentials = rest.lastIndex(of: "@").map { rest[rest.index(after: $0)...] } ?? rest
        return "iscsi://" + (afterCredentials.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "")
    }
}
