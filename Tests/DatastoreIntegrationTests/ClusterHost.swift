// One host of a shared datastore inside the test process: its own iSCSI session to the
// LUN, its own identity, and a mount that is always undone.

import BlockDevice
import Datastore
import Foundation
import ISCSI

final class ClusterHost: Sendable {
    let name: String
    let device: ISCSILUN
    let store: Datastore

    private init(name: String, device: ISCSILUN, store: Datastore) {
        self.name = name
        self.device = device
        self.store = store
    }

    /// Short timing, so a lease passes in seconds: renew every second, dead after four.
    static func fastOptions(clock: (any DatastoreClock)? = nil) -> DatastoreOptions {
        var options = DatastoreOptions()
        options.heartbeatInterval = .seconds(1)
        options.lease = .seconds(4)
        options.lockWait = .seconds(5)
        if let clock {
            options.clock = clock
            // A manual clock is advanced by the test, which also renews by hand.
            options.runsHeartbeatTask = false
            options.lockWait = .zero
        }
        return options
    }

    /// Connects a new session and mounts as a fresh host called `name`.
    static func mount(_ lun: SharedLUN, name: String, options: DatastoreOptions = fastOptions()) async throws -> ClusterHost {
        let device = try await lun.connect()
        do {
            let store = try await Datastore.mount(device: device, host: HostIdentity(uuid: UUID(), name: name), options: options)
            return ClusterHost(name: name, device: device, store: store)
        } catch {
            try? await device.close()
            throw error
        }
    }

    /// Unmounts (releasing locks and the slot) and logs the session out.
    func leave() async throws {
        do {
            try await store.unmount()
        } catch {
            try? await device.close()
            throw error
        }
        try await device.close()
    }

    /// Logs out without unmounting: to the other hosts this host simply went silent.
    func vanish() async {
        try? await device.close()
    }
}
