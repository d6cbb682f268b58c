// Mounting and unmounting: header (primary, else backup), a heartbeat slot, journal replay.

import BlockDevice
import Foundation
import NIOCore

extension Datastore {
    /// Reads the header, preferring the primary copy; says which copy served.
    static func readHeader(device: any BlockDevice) async throws -> (VolumeHeader, fromBackup: Bool) {
        let sectorSize = device.geometry.blockSize
        guard VolumeLayout.unitSize % sectorSize == 0 else {
            throw DatastoreError(.invalidArgument, "the device's block size \(sectorSize) does not divide the datastore unit of 4096 bytes")
        }
        let deviceSize = device.geometry.byteCount
        let primary = try await device.read(at: 0, blockCount: VolumeLayout.unitSize / sectorSize)
        let primaryError: DatastoreError
        do {
            return (try VolumeHeader.decode(primary, where: "the primary volume header", deviceSize: deviceSize), false)
        } catch let error as DatastoreError {
            if error.code == .unsupportedVersion { throw error }
            primaryError = error
        }
        let unit = UInt64(VolumeLayout.unitSize)
        let backupOffset = deviceSize / unit * unit - unit
        let backup = try await device.read(at: backupOffset / UInt64(sectorSize), blockCount: VolumeLayout.unitSize / sectorSize)
        do {
            return (try VolumeHeader.decode(backup, where: "the backup volume header", deviceSize: deviceSize), true)
        } catch let backupError as DatastoreError {
            if primaryError.code == .notFormatted && backupError.code == .notFormatted {
                throw DatastoreError(.notFormatted, "the device holds no datastore (no header at its start or end)")
            }
            throw DatastoreError(.corrupt, "both volume headers are unusable: \(primaryError.message); \(backupError.message)")
        }
    }

    /// Reads a volume's header without mounting it; with `countingFreeBlocks` it also
    /// reads every bitmap (without locks, so the count is a snapshot while others write).
    public static func info(device: any BlockDevice, countingFreeBlocks: Bool = false) async throws -> DatastoreInfo {
        let (header, fromBackup) = try await readHeader(device: device)
        guard countingFreeBlocks else { return DatastoreInfo(header: header, fromBackup: fromBackup) }
        let free = try await countFreeBlocks(device: device, header: header)
        return DatastoreInfo(header: header, fromBackup: fromBackup, freeBlocks: free)
    }

    /// Joins the volume as `host`: takes a heartbeat slot with a new generation,
    /// replays whatever this slot's journal left pending, and starts renewing.
    public static func mount(device: any BlockDevice, host: HostIdentity, options: DatastoreOptions = DatastoreOptions()) async throws -> Datastore {
        let (header, fromBackup) = try await readHeader(device: device)
        try checkLockMode(header.lockMode, device: device)
        let sectorSize = device.geometry.blockSize
        if header.lockMode == .reservations {
            try await device.persistentReserveOut(.registerAndIgnoreExistingKey(newKey: host.reservationKey))
        }
        let clock = options.clock
        let region = try await device.read(
            at: header.heartbeatOffset / UInt64(sectorSize),
            blockCount: Int(header.maxHosts) * VolumeLayout.unitSize / sectorSize
        )
        // Our own slot from an earlier life first (its journal may hold our last transaction), then a free one.
        var candidates: [(Int, HeartbeatRecord, ByteBuffer)] = []
        for slot in 0..<Int(header.maxHosts) {
            let sector = region.getSlice(at: region.readerIndex + slot * VolumeLayout.unitSize, length: sectorSize)!
            guard let record = try? HeartbeatRecord.decode(sector, slot: slot) else { continue }
            if record.hostUUID == host.uuid && record.state != .recovering {
                try refuseLiveSlot(record, header: header, host: host, options: options)
                candidates.insert((slot, record, sector), at: 0)
            } else if record.state == .free {
                candidates.append((slot, record, sector))
            }
        }
        for (slot, record, sector) in candidates {
            var mine = record
            mine.state = .live
            mine.hostUUID = host.uuid
            mine.hostName = host.name
            mine.generation = record.generation + 1
            mine.counter = record.counter &+ 1
            mine.mountedMillis = clock.wallMillis()
            mine.renewedMillis = mine.mountedMillis
            let image = mine.encoded(sectorSize: sectorSize)
            let started = clock.now()
            let offset = header.heartbeatUnit(slot: slot)
            let scratch = Datastore(
                device: device, host: host, header: header, options: options, fromBackup: fromBackup,
                state: MountState(slot: slot, generation: mine.generation, heartbeat: mine, heartbeatImage: image,
                                  lastRenewal: started, nextSequence: 1,
                                  preferredCluster: slot * Int(header.clusterCount) / Int(header.maxHosts))
            )
            guard try await scratch.swapSector(at: offset, expected: sector, replacement: image) else { continue }
            try await scratch.finishMount()
            await scratch.loadSpace()
            return scratch
        }
        throw DatastoreError(.hostSlotsFull, "all \(header.maxHosts) host slots of datastore '\(header.label)' are in use; unmount a host or break a dead one's slot")
    }

    /// Our own slot is reclaimed only when its last life is over: a slot with this UUID
    /// renewed less than a lease ago (by this machine's wall clock, which wrote it) belongs
    /// to a process still running with the same identity, and sharing it would mix journals.
    private static func refuseLiveSlot(_ record: HeartbeatRecord, header: VolumeHeader, host: HostIdentity, options: DatastoreOptions) throws {
        guard record.state == .live else { return }
        let (seconds, attoseconds) = options.lease.components
        let leaseMillis = UInt64(seconds) * 1000 + UInt64(attoseconds / 1_000_000_000_000_000)
        let now = options.clock.wallMillis()
        let (leaseEnd, overflow) = record.renewedMillis.addingReportingOverflow(leaseMillis)
        guard overflow || now < leaseEnd else { return }
        let age = now >= record.renewedMillis ? "\(now - record.renewedMillis) ms ago" : "in the future"
        throw DatastoreError(
            .locked,
            "host id \(host.uuid) is already mounted on datastore '\(header.label)' in slot \(record.slot) as '\(record.hostName)' (renewed \(age)); use another host id, or wait one lease if that process is dead"
        )
    }

    private func finishMount() async throws {
        let (_, lastSequence) = try await replayJournal(slot: slot)
        state.withLockedValue { $0.nextSequence = lastSequence + 1 }
        try await observeHeartbeats()
        if options.runsHeartbeatTask {
            // On a thread of its own (HeartbeatExecutor): a busy task pool must not starve renewals.
            let task = Task(executorPreference: HeartbeatExecutor.shared) { [weak self] in
                while let interval = self?.options.heartbeatInterval, let clock = self?.options.clock {
                    do { try await HeartbeatExecutor.shared.sleep(for: interval, by: clock) } catch { return }
                    guard let self, self.state.withLockedValue({ $0.mounted }) else { return }
                    do {
                        try await self.renewHeartbeat()
                        self.options.heartbeatObserver?(true)
                    } catch {
                        self.options.heartbeatObserver?(false)
                    }
                }
            }
            // A renewal can wait on the LUN far longer than the lease (a cut link: the command
            // timeout, then login attempts); the lease runs out all the same, and the fence is
            // declared (logged, reported) when it does, a quarter interval late at most.
            let watch = Task(executorPreference: HeartbeatExecutor.shared) { [weak self] in
                while let interval = self?.options.heartbeatInterval, let clock = self?.options.clock {
                    do { try await HeartbeatExecutor.shared.sleep(for: interval / 4, by: clock) } catch { return }
                    guard let self, self.state.withLockedValue({ $0.mounted }) else { return }
                    try? self.checkLive("lease watch")
                }
            }
            state.withLockedValue { $0.heartbeatTask = task; $0.leaseWatchTask = watch }
        }
    }

    /// Closes the bookkeeping of open disks, stops renewing, and frees the slot.
    ///
    /// A fenced host cleans up only what is still its own: when its slot still carries its
    /// generation (it fenced itself on its lease, and nobody took over yet) it releases its disk
    /// locks and frees the slot, as a clean unmount does, each by compare-and-swap so a host
    /// taking over at the same moment wins. When another host took the slot over, the slot,
    /// the journal and the locks belong to that host's recovery and are left alone.
    @discardableResult
    public func unmount() async throws -> UnmountOutcome {
        let (task, disks, wasMounted, fenceReason) = state.withLockedValue { state in
            (state.heartbeatTask, state.openDisks, state.mounted, state.fenceReason)
        }
        guard wasMounted else { return .clean }
        state.withLockedValue { $0.leaseWatchTask }?.cancel()
        task?.cancel()
        // A renewal already sent lands whenever the target answers it: freeing the slot before
        // it has would compare against the image it replaces and leave the slot live (seen on
        // LIO, whose slow answers widen the window). The cancelled task ends with its last I/O.
        await task?.value
        if fenceReason != nil, case .takenOver(let what) = (try? await ownSlotVerdict())?.verdict ?? .takenOver("the slot could not be read") {
            state.withLockedValue { $0.mounted = false; $0.openDisks = [:]; $0.heartbeatTask = nil; $0.leaseWatchTask = nil }
            return .fencedLeftToTakeover("heartbeat slot \(slot) (\(what)), its journal and the locks of \(disks.count) open disk(s) were left to the host that took them over")
        }
        // Locks of disks still open are released so other hosts need not wait a lease.
        var released = 0
        for (index, mode) in disks {
            if (try? await releaseDescriptorLock(index: index, mode: mode)) != nil { released += 1 }
        }
        state.withLockedValue { $0.mounted = false; $0.openDisks = [:]; $0.heartbeatTask = nil; $0.leaseWatchTask = nil }
        let (slot, record, image) = state.withLockedValue { ($0.slot, $0.heartbeat, $0.heartbeatImage) }
        var free = record
        free.state = .free
        free.counter &+= 1
        free.renewedMillis = options.clock.wallMillis()
        var freed = try await swapSector(at: header.heartbeatUnit(slot: slot), expected: image, replacement: free.encoded(sectorSize: sectorSize))
        if !freed, let now = try? await ownSlotVerdict(), now.verdict == .ours, let current = now.record {
            // A renewal may have landed unseen (its answer lost, or fenced on the lease): while
            // the slot still carries our generation it is ours to free, as it is.
            free = current
            free.state = .free
            free.counter &+= 1
            freed = try await swapSector(at: header.heartbeatUnit(slot: slot), expected: now.image, replacement: free.encoded(sectorSize: sectorSize))
        }
        if header.lockMode == .reservations {
            try? await device.persistentReserveOut(.register(existingKey: host.reservationKey, newKey: 0))
        }
        guard fenceReason != nil else { return .clean }
        return .fencedCleanedUp("nobody had taken over: released \(released) of \(disks.count) disk lock(s)\(freed ? " and freed heartbeat slot \(slot)" : "; heartbeat slot \(slot) had changed and was left")")
    }
}
