// Changes to a running daemon — a disk opened or closed, an export started or stopped — made
// the same way whether a reload or a control method asks for them.

import Control
import Datastore
import Export
import Logging
import NIOCore
import NIOPosix

/// Opens, closes, starts and stops parts of the running daemon and keeps the running config
/// in step with what runs. One change at a time: each holds a lock across its awaits.
public struct LiveChanges: Sendable {
    let state: DaemonState
    let group: any EventLoopGroup
    let logger: Logger
    private let serial: AsyncSerialLock

    public init(state: DaemonState, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) {
        self.state = state
        self.group = group
        self.logger = logger
        self.serial = state.changes
    }

    /// Runs `body` with no other change in progress.
    func serialized<T: Sendable>(_ body: () async -> T) async -> T {
        await serial.lock()
        defer { serial.unlock() }
        return await body()
    }

    /// Opens a disk in a mounted datastore and adds it to the running config.
    func openDisk(_ settings: DiskSettings) async -> Result<Void, JSONRPCError> {
        guard state.storage.disk(settings.reference) == nil else {
            return .failure(.inUse("disk \(settings.reference) is already open"))
        }
        guard let store = state.storage.datastore(settings.datastore) else {
            return .failure(.notFound("datastore \(settings.datastore) is not mounted"))
        }
        await StorageService.openDisk(settings, in: store, state: state, logger: logger)
        guard state.storage.disk(settings.reference) != nil else {
            return .failure(.operationFailed("cannot open disk \(settings.reference): \(state.state(of: "disk:\(settings.reference)")?.description ?? "unknown")"))
        }
        state.updateConfig { config in
            config.disks.removeAll { $0.reference == settings.reference }
            config.disks.append(settings)
        }
        return .success(())
    }

    /// Closes an open disk (releasing its lock) and drops it from the running config. A disk a
    /// running export presents is refused: remove the export first.
    func closeDisk(_ reference: String) async -> Result<Void, JSONRPCError> {
        let users = state.exports.exports(presenting: reference, config: state.config)
        guard users.isEmpty else {
            return .failure(.inUse("disk \(reference) is presented by export \(users.joined(separator: ", ")); remove the export first"))
        }
        guard let disk = state.storage.removeDisk(reference) else {
            return forget("disk", reference, in: \.disks, key: \.reference, notFound: "disk \(reference) is not open")
        }
        let key = "disk:\(reference)"
        state.setService(key, .stopping)
        var outcome: Result<Void, JSONRPCError> = .success(())
        do {
            try await disk.close()
        } catch {
            logger.error("closing a disk failed", metadata: ["vdiskd.disk": "\(reference)", "vdiskd.error": "\(error)"])
            outcome = .failure(.operationFailed("closing disk \(reference) failed: \(error)"))
        }
        state.removeService(key)
        state.updateConfig { $0.disks.removeAll { $0.reference == reference } }
        return outcome
    }

    /// Starts serving an export whose disks are all open, and adds it to the running config.
    func startExport(_ settings: ExportSettings) async -> Result<Void, JSONRPCError> {
        guard state.exports.export(settings.name) == nil else {
            return .failure(.inUse("export \(settings.name) is already serving"))
        }
        if let missing = settings.disks.first(where: { state.storage.disk($0) == nil }) {
            return .failure(.notFound("disk \(missing) is not open; open it first (disks.open)"))
        }
        if let chapSecret = settings.chapSecret, state.config.secrets[chapSecret] == nil {
            return .failure(.notFound("chap_secret \(chapSecret) is not in the secrets file"))
        }
        await ExportService.start(settings, state: state, group: group, logger: logger)
        guard state.exports.export(settings.name) != nil else {
            let reason = state.state(of: "export:\(settings.name)")?.description ?? "unknown"
            state.removeService("export:\(settings.name)")
            return .failure(.operationFailed("cannot serve export \(settings.name): \(reason)"))
        }
        state.updateConfig { config in
            config.exports.removeAll { $0.name == settings.name }
            config.exports.append(settings)
        }
        return .success(())
    }

    /// Drains and stops an export, logging its sessions out, and drops it from the running config.
    func stopExport(_ name: String) async -> Result<Void, JSONRPCError> {
        guard let export = state.exports.remove(name) else {
            return forget("export", name, in: \.exports, key: \.name, notFound: "export \(name) is not serving")
        }
        await ExportService.stop(name, export, state: state, logger: logger)
        state.removeService("export:\(name)")
        state.updateConfig { $0.exports.removeAll { $0.name == name } }
        return .success(())
    }

    /// Remembers in the state directory how the disk `reference` runs now compared with the config
    /// file, so that a reload or a restart keeps a change made through the control socket.
    func persist(disk reference: String) {
        save(state.recordLiveChange(disk: reference))
    }

    /// As `persist(disk:)`, for the export `name`.
    func persist(export name: String) {
        save(state.recordLiveChange(export: name))
    }

    /// Writes `record`; a failure leaves the change running but not kept, which the log says.
    func save(_ record: LiveChangeRecord) {
        do {
            try record.save(directory: state.config.daemon.stateDirectory)
        } catch {
            logger.error("cannot keep live changes; they run but a restart will lose them", metadata: ["vdiskd.error": "\(error)"])
        }
    }

    /// A configured disk or export that is not running (it failed, or waits for what it needs)
    /// leaves the running config; one that is not configured at all is not found.
    private func forget<Entry>(
        _ service: String, _ name: String, in section: WritableKeyPath<DaemonConfig, [Entry]>, key: @escaping (Entry) -> String, notFound: String
    ) -> Result<Void, JSONRPCError> {
        guard state.config[keyPath: section].contains(where: { key($0) == name }) else {
            return .failure(.notFound(notFound))
        }
        state.removeService("\(service):\(name)")
        state.updateConfig { $0[keyPath: section].removeAll { key($0) == name } }
        return .success(())
    }
}
