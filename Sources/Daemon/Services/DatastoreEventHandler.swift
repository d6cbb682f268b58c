// What the daemon does when a mounted datastore reports a fence, a key registered again or a
// dead host recovered: a fence is logged at error level, turns the datastore and its open disks
// `fenced` in `status`, sets the metric and sends a STATUS line; the others are logged and kept.

import Datastore
import Logging
import SCSI

/// Builds the `eventObserver` of one datastore's mount.
struct DatastoreEventHandler: Sendable {
    let datastore: String
    let state: DaemonState
    let logger: Logger

    var observer: @Sendable (DatastoreEvent) -> Void {
        { event in handle(event) }
    }

    func handle(_ event: DatastoreEvent) {
        let part = "datastore:\(datastore)"
        switch event {
        case .fenced(let reason):
            logger.error("datastore fenced: all I/O on it stopped", metadata: ["vdiskd.datastore": "\(datastore)", "vdiskd.reason": "\(reason)"])
            state.setService(part, .fenced(reason))
            for disk in state.config.disks where disk.datastore == datastore && state.storage.disk(disk.reference) != nil {
                state.setService("disk:\(disk.reference)", .fenced("its datastore \(datastore) is fenced"))
            }
            state.metrics.datastoreFenced(datastore: datastore, true)
            state.notifier.notify("STATUS=datastore \(datastore) fenced: \(reason); run 'vdiskctl datastores recover \(datastore)' once it is safe")
        case .resumed(let reason):
            logger.notice("datastore fence lifted: nobody took over", metadata: ["vdiskd.datastore": "\(datastore)", "vdiskd.reason": "\(reason)"])
            state.setService(part, .running)
            for disk in state.config.disks where disk.datastore == datastore && state.storage.disk(disk.reference) != nil {
                state.setService("disk:\(disk.reference)", .running)
            }
            state.metrics.datastoreFenced(datastore: datastore, false)
            state.events.record(part, "resumed", reason: reason)
            state.notifier.notify("STATUS=datastore \(datastore) resumed after its lease ran out: nobody had taken over")
        case .registeredAgain(let reason):
            logger.warning("reservation key registered again", metadata: ["vdiskd.datastore": "\(datastore)", "vdiskd.reason": "\(reason)"])
            state.metrics.reservationKeyRegisteredAgain(datastore: datastore)
            state.events.record(part, "registered-again", reason: reason)
        case .recovered(let recovery):
            logger.notice("recovered a dead host", metadata: ["vdiskd.datastore": "\(datastore)", "vdiskd.recovery": "\(recovery)"])
            state.events.record(part, "recovered-host", reason: recovery.description)
        case .spaceLow(let space):
            logger.warning("datastore reached its space soft threshold", metadata: ["vdiskd.datastore": "\(datastore)", "vdiskd.space": "\(space)"])
            state.metrics.datastoreSpaceLow(datastore: datastore, true)
            state.events.record(part, "space-low", reason: space.description)
            state.notifier.notify("STATUS=datastore \(datastore) is \(space.usedPercent) % full (soft threshold \(space.thresholdPercent ?? 0) %)")
            // SBC's THIN PROVISIONING SOFT THRESHOLD REACHED, to every initiator of its disks.
            raiseUnitAttention(.thinProvisioningSoftThresholdReached)
        case .spaceRecovered(let space):
            logger.notice("datastore below its space soft threshold again", metadata: ["vdiskd.datastore": "\(datastore)", "vdiskd.space": "\(space)"])
            state.metrics.datastoreSpaceLow(datastore: datastore, false)
            state.events.record(part, "space-ok", reason: space.description)
        case .outOfSpace(let space):
            logger.error("datastore out of space: writes to unallocated blocks fail until space is freed", metadata: ["vdiskd.datastore": "\(datastore)", "vdiskd.space": "\(space)"])
            state.events.record(part, "out-of-space", reason: space.description)
            state.notifier.notify("STATUS=datastore \(datastore) is out of space; writes needing new blocks fail with SPACE ALLOCATION FAILED WRITE PROTECT")
        }
    }

    /// Queues `code` for every initiator of every export presenting a disk of this datastore.
    private func raiseUnitAttention(_ code: AdditionalSenseCode) {
        for disk in state.config.disks where disk.datastore == datastore {
            guard let open = state.storage.disk(disk.reference) else { continue }
            for export in state.exports.exports(presenting: disk.reference, config: state.config) {
                state.exports.export(export)?.queueUnitAttention(code, of: open)
            }
        }
    }
}
