// A mounted clustered datastore: the volume's header, this host's heartbeat slot,
// its open disks, and the lock that orders its metadata transactions.

import BlockDevice
import Foundation
import NIOConcurrencyHelpers
import NIOCore

public final class Datastore: Sendable {
    public let device: any BlockDevice
    public let host: HostIdentity
    let header: VolumeHeader
    let options: DatastoreOptions
    /// The LUN block: the unit of COMPARE AND WRITE on lock and heartbeat sectors.
    let sectorSize: Int
    let metadataLock = AsyncSerialLock()
    let state: NIOLockedValueBox<MountState>
    /// True when the primary header was unreadable and the backup served.
    public let mountedFromBackupHeader: Bool

    /// What one observer knows about another slot's heartbeat.
    struct Observation {
        var image: ByteBuffer
        var since: Duration
    }

    struct MountState {
        var slot: Int
        var generation: UInt64
        var heartbeat: HeartbeatRecord
        var heartbeatImage: ByteBuffer
        var lastRenewal: Duration
        var fenceReason: String?
        /// The fence is only the lease running out: nobody is known to have acted, and a renewal
        /// that still finds the slot as this host left it lifts it (`renewHeartbeat`).
        var fencedByLease = false
        var mounted = true
        var observations: [Int: Observation] = [:]
        var nextSequence: UInt64
        var openDisks: [Int: DiskOpenMode] = [:]
        var heartbeatTask: Task<Void, Never>?
        /// Declares the lease fence when the lease runs out while a renewal is still waiting
        /// on the LUN (a cut link): without it, the first I/O or status read after the lease
        /// would be the first to notice.
        var leaseWatchTask: Task<Void, Never>?
        var preferredCluster: Int
        /// Reservation mode: holders seen on a conflict, to preempt one that never lets go.
        var reservationHolder: (key: UInt64, since: Duration)?
        /// Hosts this mount recovered (generation bumped, journal replayed), oldest first.
        var recoveries: [HostRecovery] = []
        /// How often the target had forgotten this host's reservation key and it registered again.
        var reRegistrations = 0
        /// Free file blocks per resource cluster, as this host last saw each (Datastore+Space).
        var clusterFree: [Int] = []
        /// Used space is at or past the soft threshold.
        var spaceLow = false
        /// An allocation found no free block, and none has been seen free since.
        var outOfSpace = false
    }

    init(device: any BlockDevice, host: HostIdentity, header: VolumeHeader, options: DatastoreOptions,
         fromBackup: Bool, state: MountState) {
        self.device = device
        self.host = host
        self.header = header
        self.options = options
        self.sectorSize = device.geometry.blockSize
        self.mountedFromBackupHeader = fromBackup
        self.state = NIOLockedValueBox(state)
    }

    public var label: String { header.label }
    public var uuid: UUID { header.uuid }
    public var lockMode: LockMode { header.lockMode }
    public var fileBlockSize: Int { header.fileBlockSizeInt }
    /// This host's heartbeat slot.
    public var slot: Int { state.withLockedValue { $0.slot } }
    /// This mount's generation in its slot: every mount of a slot gets a new one.
    public var generation: UInt64 { state.withLockedValue { $0.generation } }
    /// Dead hosts whose locks this mount broke, so tools can say what they did.
    public var recoveries: [HostRecovery] { state.withLockedValue { $0.recoveries } }
    /// How often this mount registered its reservation key again after the target lost it.
    public var reRegistrations: Int { state.withLockedValue { $0.reRegistrations } }

    /// The phrase errors use for this volume.
    var volumeName: String { "datastore '\(header.label)'" }

    /// Throws `.fenced` once this host has lost its heartbeat or its generation,
    /// and decides that by the clock even before the heartbeat task notices.
    /// `operation` is only formatted on failure: this runs on every I/O.
    func checkLive(_ operation: @autoclosure () -> String) throws {
        let (reason, isNew) = state.withLockedValue { state -> (String?, Bool) in
            guard state.mounted else { return ("\(volumeName) is not mounted", false) }
            if state.fenceReason == nil {
                let silent = options.clock.now() - state.lastRenewal
                if silent >= options.lease {
                    state.fenceReason = "host '\(host.name)' could not renew its heartbeat on \(volumeName) for \(silent) (lease \(options.lease)); I/O stopped so its locks can be broken safely"
                    state.fencedByLease = true
                    return (state.fenceReason, true)
                }
            }
            return (state.fenceReason, false)
        }
        if isNew, let reason { declareFenced(reason) }
        if let reason {
            throw DatastoreError(.fenced, "\(operation()) refused: \(reason)")
        }
    }

    /// The fence reason, if this host is fenced.
    public var fenceReason: String? {
        try? checkLive("status")
        return state.withLockedValue { $0.fenceReason }
    }

    /// Tells the observer, and takes back whatever the device still holds of this host's I/O:
    /// a write queued for a session recovery, or unsent on a connection that is only silent,
    /// must not land after another host has broken the locks it was written under.
    private func declareFenced(_ reason: String) {
        let device = self.device
        Task { await device.revokeOutstandingCommands(reason: "fenced: \(reason)") }
        report(.fenced(reason))
    }

    /// Stops all I/O for good. The first reason stands and is reported, except that a fence
    /// for good replaces (and reports over) one that was only the lease running out.
    func fence(_ reason: String) {
        let isNew = state.withLockedValue { state -> Bool in
            guard state.mounted, state.fenceReason == nil || state.fencedByLease else { return false }
            state.fenceReason = reason
            state.fencedByLease = false
            return true
        }
        if isNew { declareFenced(reason) }
    }
}
