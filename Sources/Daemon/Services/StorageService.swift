// Opens what the config names — target sessions, datastore mounts, disks — and closes it all at shutdown.

import BlockDevice
import Datastore
import Filters
import Foundation
import ISCSI
import ISCSIAddress
import LibISCSI
import Logging
import NIOCore
import NIOPosix
import Paths
import ServiceLifecycle

/// Opens in dependency order (targets, then datastores on them, then disks in those), records each
/// part's state for `status`, waits for graceful shutdown, then closes in reverse order so disk
/// locks are released and heartbeat slots freed before the sessions log out. A part that fails
/// to open is reported as failed, and what depends on it as not started; the rest still run.
struct StorageService: Service {
    let config: DaemonConfig
    let state: DaemonState
    let group: any EventLoopGroup
    let logger: Logger

    var storage: OpenedStorage { state.storage }

    func run() async throws {
        for target in config.targets {
            let key = "target:\(target.name)"
            state.setService(key, .starting)
            let opener = TargetOpener(target: target, secrets: config.secrets, logger: logger)
            await Self.open(key, failing: "cannot open target", state: state, logger: logger) {
                if target.isMultipath {
                    let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
                    let paths = await opener.paths().map { opener.path($0, on: eventLoop) }
                    let device = try await MultipathDevice.open(name: target.name, paths: paths, options: opener.multipathOptions)
                    storage.addMultipath(target.name, device)
                    return
                }
                let url = opener.url(at: target.portal)
                switch target.engine {
                case .native:
                    let session = try opener.nativeSession(url, source: nil, isid: nil, recovers: true)
                    storage.addLUN(target.name, try await ISCSILUN.connect(url, configuration: session, logger: logger))
                case .libiscsi:
                    storage.addDevice(target.name, try await LibISCSIDevice.connect(url: url, configuration: opener.libiscsiConfiguration(url, source: nil, isPath: false), logger: logger))
                }
            }
        }

        for settings in config.datastores {
            let key = "datastore:\(settings.name)"
            guard let session = storage.device(settings.target) else {
                state.setService(key, .notStarted("its target \(settings.target) is not open"))
                continue
            }
            await Self.mount(settings, on: session, state: state, logger: logger)
        }

        for settings in config.disks {
            let key = "disk:\(settings.reference)"
            guard let store = storage.datastore(settings.datastore) else {
                state.setService(key, .notStarted("its datastore \(settings.datastore) is not mounted"))
                continue
            }
            if settings.takeover == .auto {
                await DiskTakeover.openOrWait(settings, state: state, group: group, logger: logger, startingExports: false)
            } else {
                await Self.openDisk(settings, in: store, state: state, logger: logger)
            }
        }

        storage.markOpened()
        await withTaskGroup(of: Void.self) { group in
            for (name, lun) in storage.luns {
                group.addTask { await watch(name, lun) }
            }
            for (name, device) in storage.multipaths {
                group.addTask { await watch(name, device) }
            }
            // Cancellation ends the wait as well as graceful shutdown; either way, close everything.
            try? await gracefulShutdown()
            group.cancelAll()
        }

        await Self.closeRecoveringTargets(state: state, logger: logger)
        // Disks still waiting for another host stop trying before anything closes under them.
        await storage.stopBackground()
        let opened = storage.removeAll()
        for (reference, disk) in opened.disks.reversed() {
            await close("disk:\(reference)") { try await disk.close() }
        }
        for (name, store) in opened.datastores.reversed() {
            await close("datastore:\(name)") {
                let outcome = try await store.unmount()
                if outcome != .clean {
                    logger.warning("unmounted a fenced datastore", metadata: ["vdiskd.datastore": "\(name)", "vdiskd.outcome": "\(outcome)"])
                    state.events.record("datastore:\(name)", "unmounted", reason: outcome.description)
                }
            }
        }
        for (name, lun) in opened.luns.reversed() where (lun as? ISCSILUN)?.isClosed != true && !((lun as? MultipathDevice)?.isClosed ?? false) {
            await close("target:\(name)") { try await lun.close() }
        }
    }

    /// Records what a target's LUN reports (a unit attention, a logout request, a lost connection
    /// and its recovery) for `targets.list`: the target is `recovering` while the LUN logs in
    /// again, `running` after, and `failed` only when recovery gave up. Ends when cancelled.
    private func watch(_ name: String, _ lun: ISCSILUN) async {
        let key = "target:\(name)"
        var since = Date()
        for await event in lun.events {
            // A reset-class unit attention (ASC 29h: power on, reset, I_T nexus loss) meets the
            // first command of every new session; it is routine, so it is not the target's news.
            if case .unitAttention(let sense) = event, sense.additionalSenseCode.asc == 0x29 { continue }
            let text: String
            switch event {
            case .session(.unitAttention(let lun, let sense)): text = "unit attention on LUN \(lun): sense \(sense.prefix(18).map { String($0, radix: 16) }.joined(separator: " "))"
            case .session(.logoutRequested(let seconds)): text = "the target asked for a logout within \(seconds) s"
            case .session(.connectionDropAnnounced(let wait, _)): text = "the target announced a connection drop (Time2Wait \(wait) s)"
            case .session(.renegotiationRequested): text = "the target asked to renegotiate parameters"
            case .unitAttention(let sense): text = "a command met a unit attention (\(sense)) and was sent again"
            case .session(.connectionLost(let error)): text = "connection lost: \(error)"
            case .recovery(.lost(let reason)):
                since = Date()
                state.setService(key, .recovering(since: since, attempts: 0))
                text = "connection lost (\(reason)); logging in again"
            case .recovery(.attemptFailed(let attempt, let reason)):
                state.setService(key, .recovering(since: since, attempts: attempt))
                text = "login attempt \(attempt) failed: \(reason)"
            case .recovery(.reconnected(let attempts, let after, let count)):
                state.setService(key, .running)
                state.metrics.targetReconnected(target: name)
                text = "reconnected after \(attempts) login attempt(s) in \(after) (reconnect \(count))"
            case .recovery(.failed(let message)):
                state.setService(key, .failed(message))
                text = "recovery gave up: \(message)"
            }
            logger.warning("target session event", metadata: ["vdiskd.target": "\(name)", "vdiskd.event": "\(text)"])
            storage.recordEvent(name, "\(Date()): \(text)")
        }
    }

    /// Closes every target still logging in again after a lost connection. Called as soon as
    /// graceful shutdown begins: such a target cannot take the exports' flushes nor the disks'
    /// and datastores' last writes, which then fail at once instead of waiting out its recovery.
    static func closeRecoveringTargets(state: DaemonState, logger: Logger) async {
        for (name, lun) in state.storage.luns where lun.recoveryState.isRecovering {
            logger.warning("closing a target that is still recovering", metadata: ["vdiskd.target": "\(name)"])
            state.setService("target:\(name)", .stopping)
            try? await lun.close()
            state.setService("target:\(name)", .stopped)
        }
        // The same for a multipath target with every path down: its commands would otherwise
        // wait out apd_timeout_seconds (140 s by default) before shutdown could go on.
        for (name, device) in state.storage.multipaths {
            let health = device.snapshot.health
            guard health == .allPathsDown || health == .allPathsDownTimedOut else { continue }
            logger.warning("closing a target whose paths are all down", metadata: ["vdiskd.target": "\(name)"])
            state.setService("target:\(name)", .stopping)
            try? await device.close()
            state.setService("target:\(name)", .stopped)
        }
    }

    /// Mounts one configured datastore on its target's session (at start, or again after a fence)
    /// and records it.
    static func mount(_ settings: DatastoreSettings, on session: any BlockDevice, state: DaemonState, logger: Logger) async {
        let key = "datastore:\(settings.name)"
        state.setService(key, .starting)
        var options = DatastoreOptions()
        options.heartbeatInterval = .seconds(settings.heartbeatIntervalSeconds)
        options.lease = .seconds(settings.heartbeatLeaseSeconds)
        options.heartbeatObserver = { [metrics = state.metrics, name = settings.name] renewed in
            metrics.heartbeatRenewal(datastore: name, succeeded: renewed)
        }
        options.spaceWarningPercent = settings.spaceWarningPercent > 0 ? settings.spaceWarningPercent : nil
        options.eventObserver = DatastoreEventHandler(datastore: settings.name, state: state, logger: logger).observer
        await open(key, failing: "cannot mount datastore", state: state, logger: logger) {
            // The datastore's I/O to its LUN is counted per target (vdiskd_initiator_commands_total).
            let lun = MeteredBlockDevice(session, target: settings.target, metrics: state.metrics)
            let store = try await Datastore.mount(device: lun, host: HostIdentity(uuid: settings.hostUUID, name: settings.hostName), options: options)
            state.storage.addDatastore(settings.name, store)
            state.metrics.datastoreFenced(datastore: settings.name, false)
            if let capacity = settings.ioControlCapacityIOPS {
                state.storage.addIOControlHost(settings.name, IOControlHost(name: "datastore \(settings.name)", capacity: Double(capacity)))
            }
        }
    }

    /// Opens one configured disk (at start, or when a reload adds it) and records it.
    static func openDisk(_ settings: DiskSettings, in store: Datastore, state: DaemonState, logger: Logger) async {
        let key = "disk:\(settings.reference)"
        state.setService(key, .starting)
        await open(key, failing: "cannot open disk", state: state, logger: logger) {
            let mode: DiskOpenMode = settings.mode == .exclusive ? .exclusive : .sharedReadOnly
            let disk = try await store.openDisk(name: settings.name, mode: mode)
            try await addOpened(disk, settings, state: state, logger: logger)
        }
    }

    /// Records a disk just opened (at start, on a reload, or by a takeover), behind its filter
    /// chain when the config gives one; closes it again when the chain cannot be built.
    static func addOpened(_ disk: VirtualDisk, _ settings: DiskSettings, state: DaemonState, logger: Logger) async throws {
        guard let specs = settings.filters else {
            state.storage.addDisk(settings.reference, disk)
            return
        }
        do {
            let chain = try await FilterChains.build(specs, for: settings.reference, disk: disk, state: state, logger: logger)
            let device = FilteredBlockDevice(base: disk, disk: settings.reference, chain: chain, events: FilterChains.eventSink(state: state, logger: logger))
            state.storage.addDisk(settings.reference, disk, chain: device)
        } catch {
            try? await disk.close()
            throw error
        }
    }

    /// Runs `body` and records the part as running, or, when it throws, as failed with the
    /// error (logged as `message`).
    private static func open(_ key: String, failing message: String, state: DaemonState, logger: Logger, _ body: () async throws -> Void) async {
        do {
            try await body()
            state.setService(key, .running)
        } catch {
            logger.error("\(message)", metadata: ["vdiskd.part": "\(key)", "vdiskd.error": "\(error)"])
            state.setService(key, .failed("\(error)"))
        }
    }

    private func close(_ key: String, _ body: () async throws -> Void) async {
        state.setService(key, .stopping)
        do {
            try await body()
            state.setService(key, .stopped)
        } catch {
            logger.error("closing failed", metadata: ["vdiskd.part": "\(key)", "vdiskd.error": "\(error)"])
            state.setService(key, .failed("closing: \(error)"))
        }
    }
}
