// Bringing a fenced datastore back while the daemon runs: a new mount with a new generation,
// then its configured disks and the exports presenting them, as at start.

import Control
import Datastore
import Foundation

extension LiveChanges {
    /// Stops the exports presenting the datastore's disks, closes the disks, unmounts the fenced
    /// mount (it cleans up only what is still its own), mounts again with a new generation, and
    /// opens the configured disks and starts those exports again. A disk another host took over
    /// stays `failed` with the holder's name; what did come back is listed in the answer.
    func recoverDatastore(_ name: String) async -> Result<JSONValue, JSONRPCError> {
        guard let settings = state.config.datastores.first(where: { $0.name == name }) else {
            return .failure(.notFound("no datastore \(name) in the config"))
        }
        guard let store = state.storage.datastore(name) else {
            return .failure(.notFound("datastore \(name) is not mounted (see datastores.list)"))
        }
        guard let reason = store.fenceReason else {
            return .failure(.inUse("datastore \(name) is not fenced; nothing to recover"))
        }
        guard let session = state.storage.device(settings.target) else {
            return .failure(.notFound("the target \(settings.target) of datastore \(name) is not open"))
        }
        logger.warning("recovering a fenced datastore", metadata: ["vdiskd.datastore": "\(name)", "vdiskd.reason": "\(reason)"])
        let disks = state.config.disks.filter { $0.datastore == name }
        let references = Set(disks.map(\.reference))
        let exports = state.config.exports.filter { export in export.disks.contains { references.contains($0) } }
        for export in exports {
            if let running = state.exports.remove(export.name) {
                await ExportService.stop(export.name, running, state: state, logger: logger)
            }
        }
        for disk in disks {
            // Closing a fenced disk releases its lock only where the lock is still this mount's.
            try? await state.storage.removeDisk(disk.reference)?.close()
        }
        _ = state.storage.removeDatastore(name)
        let outcome: String
        do {
            outcome = try await store.unmount().description
        } catch {
            outcome = "unmount failed: \(error)"
        }
        state.events.record("datastore:\(name)", "unmounted", reason: outcome)
        await StorageService.mount(settings, on: session, state: state, logger: logger)
        guard let mounted = state.storage.datastore(name) else {
            let why = state.state(of: "datastore:\(name)")?.description ?? "unknown"
            return .failure(.operationFailed("datastore \(name) could not be mounted again: \(why)"))
        }
        for disk in disks {
            if disk.takeover == .auto {
                // Exports start below; a disk still held goes on waiting in the background.
                await DiskTakeover.openOrWait(disk, state: state, group: group, logger: logger, startingExports: false)
            } else {
                await StorageService.openDisk(disk, in: mounted, state: state, logger: logger)
            }
        }
        for export in exports {
            await ExportService.start(export, state: state, group: group, logger: logger)
        }
        logger.notice("datastore mounted again after a fence", metadata: ["vdiskd.datastore": "\(name)", "vdiskd.generation": "\(mounted.generation)"])
        return .success(.object([
            "datastore": .string(name),
            "generation": .int(Int(mounted.generation)),
            "previous_mount": .string(outcome),
            "disks": .object(Dictionary(uniqueKeysWithValues: disks.map { disk in
                (disk.reference, .string(state.state(of: "disk:\(disk.reference)")?.description ?? "unknown"))
            })),
            "exports": .object(Dictionary(uniqueKeysWithValues: exports.map { export in
                (export.name, .string(state.state(of: "export:\(export.name)")?.description ?? "unknown"))
            })),
        ]))
    }
}
