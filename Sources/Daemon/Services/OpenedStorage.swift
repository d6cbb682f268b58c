// What the storage service has open — target sessions, mounted datastores, open disks — shared
// with the export service and the control methods.

import BlockDevice
import Datastore
import Filters
import ISCSI
import Paths
import Synchronization

/// Filled by `StorageService` as parts open; read by whoever needs a session, datastore or disk.
/// `waitUntilOpened()` lets the export service start only once start-up opening is over.
public final class OpenedStorage: Sendable {
    private struct Inner {
        var luns: [(name: String, lun: ISCSILUN)] = []
        /// Targets reached through the Paths layer (several paths), and targets opened on the
        /// libiscsi engine: what datastores mount, by target name.
        var multipaths: [(name: String, device: MultipathDevice)] = []
        var otherDevices: [(name: String, device: any BlockDevice)] = []
        var datastores: [(name: String, store: Datastore)] = []
        var disks: [(reference: String, disk: VirtualDisk)] = []
        var chains: [String: FilteredBlockDevice] = [:]
        var ioControlHosts: [String: IOControlHost] = [:]
        var lastEvents: [String: String] = [:]
        /// Work that runs until shutdown: disks waiting for another host (DiskTakeover).
        var background: [Task<Void, Never>] = []
        var opened = false
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    private let inner = Mutex(Inner())

    public init() {}

    func addLUN(_ name: String, _ lun: ISCSILUN) {
        inner.withLock { $0.luns.append((name, lun)) }
    }

    func addMultipath(_ name: String, _ device: MultipathDevice) {
        inner.withLock { $0.multipaths.append((name, device)) }
    }

    /// A target's LUN opened on an engine without session recovery of its own (libiscsi).
    func addDevice(_ name: String, _ device: any BlockDevice) {
        inner.withLock { $0.otherDevices.append((name, device)) }
    }

    /// Every multipath target, by target name.
    public var multipaths: [(name: String, device: MultipathDevice)] {
        inner.withLock { $0.multipaths }
    }

    public func multipath(_ name: String) -> MultipathDevice? {
        inner.withLock { $0.multipaths.first(where: { $0.name == name })?.device }
    }

    /// The block device of an open target, whatever reaches it: its session's LUN, its paths,
    /// or the libiscsi engine.
    public func device(_ name: String) -> (any BlockDevice)? {
        inner.withLock { inner in
            if let lun = inner.luns.first(where: { $0.name == name })?.lun { return lun }
            if let multipath = inner.multipaths.first(where: { $0.name == name })?.device { return multipath }
            return inner.otherDevices.first(where: { $0.name == name })?.device
        }
    }

    func addDatastore(_ name: String, _ store: Datastore) {
        inner.withLock { $0.datastores.append((name, store)) }
    }

    func addDisk(_ reference: String, _ disk: VirtualDisk) {
        inner.withLock { $0.disks.append((reference, disk)) }
    }

    /// Adds a disk opened with a filter chain: `chain` wraps `disk`, and exports present it.
    func addDisk(_ reference: String, _ disk: VirtualDisk, chain: FilteredBlockDevice) {
        inner.withLock { inner in
            inner.disks.append((reference, disk))
            inner.chains[reference] = chain
        }
    }

    /// Forgets a disk and returns what to close: its chain when it has one (which closes the
    /// disk under it), else the disk.
    func removeDisk(_ reference: String) -> (any BlockDevice)? {
        inner.withLock { inner in
            guard let index = inner.disks.firstIndex(where: { $0.reference == reference }) else { return nil }
            let disk = inner.disks.remove(at: index).disk
            if let chain = inner.chains.removeValue(forKey: reference) { return chain }
            return disk
        }
    }

    /// Keeps `task` until `stopBackground()`.
    func addBackground(_ task: Task<Void, Never>) {
        inner.withLock { $0.background.append(task) }
    }

    /// Cancels the background work and waits for it to end, before anything is closed under it.
    func stopBackground() async {
        let tasks = inner.withLock { inner in
            defer { inner.background = [] }
            return inner.background
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    /// Forgets a datastore and returns it (the caller unmounts it).
    func removeDatastore(_ name: String) -> Datastore? {
        inner.withLock { inner in
            guard let index = inner.datastores.firstIndex(where: { $0.name == name }) else { return nil }
            return inner.datastores.remove(at: index).store
        }
    }

    /// Forgets everything and returns it, for closing in reverse order; each disk comes as what
    /// to close (its chain when it has one).
    func removeAll() -> (luns: [(name: String, lun: any BlockDevice)], datastores: [(name: String, store: Datastore)], disks: [(reference: String, disk: any BlockDevice)]) {
        inner.withLock { inner in
            defer {
                inner.luns = []
                inner.multipaths = []
                inner.otherDevices = []
                inner.datastores = []
                inner.disks = []
                inner.chains = [:]
                inner.ioControlHosts = [:]
            }
            let disks = inner.disks.map { entry -> (reference: String, disk: any BlockDevice) in
                if let chain = inner.chains[entry.reference] { return (entry.reference, chain) }
                return (entry.reference, entry.disk)
            }
            let targets: [(name: String, lun: any BlockDevice)] = inner.luns.map { ($0.name, $0.lun) }
                + inner.multipaths.map { ($0.name, $0.device) } + inner.otherDevices.map { ($0.name, $0.device) }
            return (targets, inner.datastores, disks)
        }
    }

    /// The chain of an open disk, when it was opened with one (`filters` in its config).
    public func chain(_ reference: String) -> FilteredBlockDevice? {
        inner.withLock { $0.chains[reference] }
    }

    func addIOControlHost(_ datastore: String, _ host: IOControlHost) {
        inner.withLock { $0.ioControlHosts[datastore] = host }
    }

    /// The mClock scheduler of a datastore with `io_control_capacity_iops`.
    public func ioControlHost(_ datastore: String) -> IOControlHost? {
        inner.withLock { $0.ioControlHosts[datastore] }
    }

    /// Every open target session, by target name.
    var luns: [(name: String, lun: ISCSILUN)] {
        inner.withLock { $0.luns }
    }

    /// The last thing a target's session reported outside command responses.
    func recordEvent(_ name: String, _ text: String) {
        inner.withLock { $0.lastEvents[name] = text }
    }

    public func lastEvent(_ name: String) -> String? {
        inner.withLock { $0.lastEvents[name] }
    }

    public func lun(_ name: String) -> ISCSILUN? {
        inner.withLock { $0.luns.first(where: { $0.name == name })?.lun }
    }

    public func datastore(_ name: String) -> Datastore? {
        inner.withLock { $0.datastores.first(where: { $0.name == name })?.store }
    }

    public func disk(_ reference: String) -> VirtualDisk? {
        inner.withLock { $0.disks.first(where: { $0.reference == reference })?.disk }
    }

    /// Start-up opening is over (whatever failed is reported in the daemon state); wakes waiters.
    func markOpened() {
        let waiters = inner.withLock { inner in
            inner.opened = true
            defer { inner.waiters = [:] }
            return Array(inner.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once start-up opening is over, or at once when the task is cancelled.
    func waitUntilOpened() async {
        let id = inner.withLock { inner in
            defer { inner.nextWaiter += 1 }
            return inner.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = inner.withLock { inner in
                    if inner.opened || Task.isCancelled { return true }
                    inner.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            inner.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
