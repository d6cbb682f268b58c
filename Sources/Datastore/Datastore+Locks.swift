// On-disk locks: taking, sharing and releasing lock sectors, and breaking the locks of
// a host whose heartbeat stood still for a lease (bump, replay, free, take).

import BlockDevice
import Foundation
import NIOCore

extension Datastore {
    enum HolderState {
        /// The holder unmounted or was recovered: its lock may be taken now.
        case gone
        /// The holder is (or may still be) alive.
        case alive(name: String, silent: Duration)
    }

    /// Decides whether the holder `slot` at `generation` still owns its locks, and
    /// recovers it first when its heartbeat stood still for a full lease.
    func holderState(slot: Int, generation: UInt64) async throws -> HolderState {
        guard slot < Int(header.maxHosts) else { return .gone }
        let offset = header.heartbeatUnit(slot: slot)
        let sector = try await readSector(at: offset)
        let record = try HeartbeatRecord.decode(sector, slot: slot)
        let now = options.clock.now()
        let since = state.withLockedValue { state -> Duration in
            if state.observations[slot]?.image != sector {
                state.observations[slot] = Observation(image: sector, since: now)
            }
            return state.observations[slot]!.since
        }
        if record.generation != generation && record.state != .recovering { return .gone }
        if record.state == .free { return .gone }
        if slot == self.slot && generation == self.generation { return .alive(name: host.name, silent: .zero) }
        let silent = now - since
        guard silent >= options.lease else { return .alive(name: record.hostName, silent: silent) }
        try await recoverHost(slot: slot, record: record, image: sector)
        return .gone
    }

    /// Takes over a dead host's slot: bump its generation (it can never write again),
    /// replay its journal, then free the slot.
    func recoverHost(slot: Int, record: HeartbeatRecord, image: ByteBuffer) async throws {
        let offset = header.heartbeatUnit(slot: slot)
        var recovering = record
        recovering.state = .recovering
        recovering.generation = record.generation + 1
        recovering.counter &+= 1
        recovering.recoveringHost = host.uuid
        let recoveringImage = recovering.encoded(sectorSize: sectorSize)
        guard try await swapSector(at: offset, expected: image, replacement: recoveringImage) else {
            throw DatastoreError(.busy, "host '\(record.hostName)' in slot \(slot) of \(volumeName) changed its heartbeat while it was being recovered; retry")
        }
        if header.lockMode == .reservations {
            try await removeRegistration(of: record)
        }
        let (replayed, sequence) = try await replayJournal(slot: slot)
        var free = recovering
        free.state = .free
        free.counter &+= 1
        _ = try await swapSector(at: offset, expected: recoveringImage, replacement: free.encoded(sectorSize: sectorSize))
        let recovery = HostRecovery(slot: slot, hostUUID: record.hostUUID, hostName: record.hostName,
                                    oldGeneration: record.generation, replayedSequence: replayed ? sequence : nil)
        state.withLockedValue { $0.recoveries.append(recovery) }
        report(.recovered(recovery))
    }

    /// Reservation mode fences a dead host at the target too: PREEMPT with its key drops
    /// its registration, so should it wake up it can never reserve the LUN again (no lock
    /// or heartbeat update), and the LUN refuses its writes whenever a host holds the
    /// reservation. Its other writes are stopped by its own lease check.
    private func removeRegistration(of record: HeartbeatRecord) async throws {
        let victim = HostIdentity(uuid: record.hostUUID, name: record.hostName).reservationKey
        guard victim != host.reservationKey,
              try await device.readReservationKeys().keys.contains(victim) else { return }
        try await device.persistentReserveOut(.preempt(key: host.reservationKey, victimKey: victim, type: Self.reservationType, abort: false))
        // Had the victim held the reservation, PREEMPT handed it to us: give it back.
        if try await device.readReservation().holder?.key == host.reservationKey {
            try await device.persistentReserveOut(.release(key: host.reservationKey, type: Self.reservationType))
        }
    }

    func lockError(_ record: LockRecord, object: String, silent: Duration) -> DatastoreError {
        let since = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(record.acquiredMillis) / 1000))
        var message = "\(object) on \(volumeName) is locked by host '\(record.ownerName)' (\(record.ownerUUID)) since \(since)"
        var holder = record.ownerName
        if record.mode == .shared && record.ownerName.isEmpty {
            let slots = (0..<64).filter { record.sharedSlots & (1 << UInt64($0)) != 0 }
            message = "\(object) on \(volumeName) is open read-only by host slots \(slots)"
            holder = "host slots \(slots)"
        }
        if silent > .zero {
            message += "; its heartbeat has stood still for \(silent), and the lock can be broken after the \(options.lease) lease"
        }
        return DatastoreError(.locked, message, holder: LockHolder(name: holder, heartbeatAge: silent, lease: options.lease))
    }

    /// Takes the lock at `offset` exclusively or shared. With `wait`, retries while a
    /// live holder keeps it, up to `options.lockWait` (for short-term cluster locks).
    @discardableResult
    func acquireLock(at offset: UInt64, object: String, mode: LockRecord.Mode, wait: Bool) async throws -> LockRecord {
        try checkLive("locking \(object)")
        let deadline = options.clock.now() + options.lockWait
        let (mySlot, myGeneration) = state.withLockedValue { ($0.slot, $0.generation) }
        while true {
            let sector = try await readSector(at: offset)
            let current = try LockRecord.decode(sector, place: "lock of \(object)")
            var next = current
            next.changeCounter &+= 1
            var blocker: (LockRecord, Duration)?

            if current.mode == .exclusive {
                if current.ownerUUID == host.uuid && current.ownerGeneration == myGeneration && Int(current.ownerSlot) == mySlot {
                    throw DatastoreError(.locked, "\(object) on \(volumeName) is already open on this host")
                }
                switch try await holderState(slot: Int(current.ownerSlot), generation: current.ownerGeneration) {
                case .gone: break
                case .alive(_, let silent): blocker = (current, silent)
                }
            }
            if blocker == nil && current.mode == .shared {
                // Drop shared holders that are gone; any live one blocks an exclusive lock.
                for holder in 0..<Int(header.maxHosts) where current.sharedSlots & (1 << UInt64(holder)) != 0 {
                    if holder == mySlot && UInt64(current.sharedGenerations[holder]) == myGeneration & 0xFFFF_FFFF {
                        if mode == .shared { throw DatastoreError(.locked, "\(object) on \(volumeName) is already open on this host") }
                        blocker = (current, .zero)
                        continue
                    }
                    let generation = try await heartbeatGeneration(slot: holder, low32: current.sharedGenerations[holder])
                    switch try await holderState(slot: holder, generation: generation) {
                    case .gone:
                        next.sharedSlots &= ~(1 << UInt64(holder))
                        next.sharedGenerations[holder] = 0
                    case .alive(_, let silent):
                        if mode == .exclusive { blocker = (current, silent) }
                    }
                }
            }
            if let (record, silent) = blocker {
                guard wait, options.clock.now() < deadline else {
                    throw lockError(record, object: object, silent: silent)
                }
                try await options.clock.sleep(for: .milliseconds(20))
                continue
            }
            switch mode {
            case .exclusive, .free:
                next.mode = mode
                next.ownerUUID = host.uuid
                next.ownerName = host.name
                next.ownerSlot = UInt32(mySlot)
                next.ownerGeneration = myGeneration
                next.acquiredMillis = options.clock.wallMillis()
                next.sharedSlots = 0
                next.sharedGenerations = [UInt32](repeating: 0, count: VolumeLayout.maximumHosts)
            case .shared:
                if current.mode != .shared {
                    next = LockRecord(changeCounter: current.changeCounter &+ 1)
                    next.acquiredMillis = options.clock.wallMillis()
                }
                next.mode = .shared
                next.sharedSlots |= 1 << UInt64(mySlot)
                next.sharedGenerations[mySlot] = UInt32(truncatingIfNeeded: myGeneration)
            }
            if try await swapSector(at: offset, expected: sector, replacement: next.encoded(sectorSize: sectorSize)) {
                return next
            }
        }
    }

    /// A shared holder's full generation: its slot's, when the low 32 bits agree.
    private func heartbeatGeneration(slot: Int, low32: UInt32) async throws -> UInt64 {
        let record = try HeartbeatRecord.decode(try await readSector(at: header.heartbeatUnit(slot: slot)), slot: slot)
        return UInt32(truncatingIfNeeded: record.generation) == low32 ? record.generation : 0
    }

    /// Gives up this host's hold on the lock at `offset`. A lock someone broke is left alone.
    func releaseLock(at offset: UInt64, object: String, mode: LockRecord.Mode) async throws {
        let (mySlot, myGeneration) = state.withLockedValue { ($0.slot, $0.generation) }
        while true {
            let sector = try await readSector(at: offset)
            let current = try LockRecord.decode(sector, place: "lock of \(object)")
            var next = current
            next.changeCounter &+= 1
            switch current.mode {
            case .exclusive:
                guard current.ownerUUID == host.uuid, current.ownerGeneration == myGeneration else { return }
                next = LockRecord(changeCounter: current.changeCounter &+ 1)
            case .shared:
                guard current.sharedSlots & (1 << UInt64(mySlot)) != 0 else { return }
                next.sharedSlots &= ~(1 << UInt64(mySlot))
                next.sharedGenerations[mySlot] = 0
                if next.sharedSlots == 0 { next = LockRecord(changeCounter: current.changeCounter &+ 1) }
            case .free:
                return
            }
            if try await swapSector(at: offset, expected: sector, replacement: next.encoded(sectorSize: sectorSize)) { return }
        }
    }

    func releaseDescriptorLock(index: Int, mode: DiskOpenMode) async throws {
        try await releaseLock(at: header.descriptorLockUnit(index), object: "descriptor \(index)", mode: mode == .exclusive ? .exclusive : .shared)
    }

    /// Every lock that is held, on disks and clusters.
    public func locks() async throws -> [LockInfo] {
        var result: [LockInfo] = []
        let disks = try await readDescriptors()
        let region = try await readUnits(at: header.heartbeatOffset, count: Int(header.maxHosts))
        let heartbeats = (0..<Int(header.maxHosts)).map { slot in
            try? HeartbeatRecord.decode(region.getSlice(at: region.readerIndex + slot * VolumeLayout.unitSize, length: sectorSize)!, slot: slot)
        }
        for index in 0..<Int(header.maxDisks) {
            let record = try LockRecord.decode(try await readSector(at: header.descriptorLockUnit(index)), place: "lock of descriptor \(index)")
            guard record.mode != .free else { continue }
            let name = disks[index].map { "disk '\($0.name)'" } ?? "descriptor \(index)"
            result.append(Self.lockInfo(record, object: name, heartbeats: heartbeats))
        }
        for index in 0..<Int(header.clusterCount) {
            let record = try LockRecord.decode(try await readSector(at: header.clusterLockUnit(index)), place: "lock of cluster \(index)")
            guard record.mode != .free else { continue }
            result.append(Self.lockInfo(record, object: "cluster \(index)", heartbeats: heartbeats))
        }
        return result
    }

    /// A holder is gone when its slot is free or has moved on to another generation; a slot
    /// being recovered still counts as holding until its recovery ends.
    private static func holderGone(slot: Int, generationMatches: (UInt64) -> Bool, heartbeats: [HeartbeatRecord?]) -> Bool {
        guard slot < heartbeats.count, let record = heartbeats[slot] else { return false }
        if record.state == .recovering { return false }
        return record.state == .free || !generationMatches(record.generation)
    }

    private static func lockInfo(_ record: LockRecord, object: String, heartbeats: [HeartbeatRecord?]) -> LockInfo {
        let exclusive = record.mode == .exclusive
        let shared = (0..<VolumeLayout.maximumHosts).filter { record.sharedSlots & (1 << UInt64($0)) != 0 }
        let stale = exclusive
            ? holderGone(slot: Int(record.ownerSlot), generationMatches: { $0 == record.ownerGeneration }, heartbeats: heartbeats)
            : shared.allSatisfy { slot in
                holderGone(slot: slot, generationMatches: { UInt32(truncatingIfNeeded: $0) == record.sharedGenerations[slot] }, heartbeats: heartbeats)
            }
        return LockInfo(
            object: object, mode: exclusive ? "exclusive" : "shared",
            ownerUUID: exclusive ? record.ownerUUID : nil, ownerName: exclusive ? record.ownerName : nil,
            ownerSlot: exclusive ? Int(record.ownerSlot) : nil,
            since: Date(timeIntervalSince1970: Double(record.acquiredMillis) / 1000),
            sharedSlots: shared, isStale: stale
        )
    }
}
