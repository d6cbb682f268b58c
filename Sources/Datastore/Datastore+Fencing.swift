// The fence rule: a host stops for good only when another host acted on its heartbeat slot
// (bumped its generation, or is replaying its journal). A reservation key the target forgot
// (tgt keeps registrations in memory, so a restart drops them all) or an unexpected image of
// its own slot that still carries its generation is repaired, and the host carries on.

import BlockDevice
import NIOCore

extension Datastore {
    /// What this host's own heartbeat slot says about its mount.
    enum SlotVerdict: Equatable {
        /// Same host, same generation, live: nobody acted on the slot.
        case ours
        /// Another host acted on the slot (or it cannot be read as ours); the text says what.
        case takenOver(String)
    }

    /// The fence decision, from the slot's record alone. A takeover always changes the slot
    /// first (generation + 1 and `recovering`, then `free`), so an unchanged generation proves
    /// that nobody has broken, or is breaking, this mount's locks.
    static func verdict(on record: HeartbeatRecord?, host: HostIdentity, generation: UInt64) -> SlotVerdict {
        guard let record else { return .takenOver("the slot is unreadable") }
        if record.state == .recovering {
            return .takenOver("generation \(generation) was bumped to \(record.generation) by the host with UUID \(record.recoveringHost), which is replaying its journal")
        }
        if record.generation != generation || record.hostUUID != host.uuid {
            return .takenOver("generation \(generation) was bumped (now generation \(record.generation), host '\(record.hostName)', \(record.state))")
        }
        if record.state != .live {
            return .takenOver("the slot was freed at generation \(generation)")
        }
        return .ours
    }

    /// Reads this host's slot and judges it, without fencing.
    func ownSlotVerdict() async throws -> (verdict: SlotVerdict, record: HeartbeatRecord?, image: ByteBuffer) {
        let (slot, generation) = state.withLockedValue { ($0.slot, $0.generation) }
        let image = try await readSector(at: header.heartbeatUnit(slot: slot))
        let record = try? HeartbeatRecord.decode(image, slot: slot)
        return (Self.verdict(on: record, host: host, generation: generation), record, image)
    }

    /// Reads this host's slot; fences (and throws) unless it is still ours, else returns its image.
    func requireOwnSlot(_ event: @autoclosure () -> String) async throws -> (record: HeartbeatRecord, image: ByteBuffer) {
        let found = try await ownSlotVerdict()
        switch found.verdict {
        case .ours:
            return (found.record!, found.image)
        case .takenOver(let what):
            let reason = "host '\(host.name)' \(event()), and another host took over its heartbeat slot \(slot) of \(volumeName): \(what); its locks were broken"
            fence(reason)
            throw DatastoreError(.fenced, reason)
        }
    }

    /// Reservation mode: makes sure this host's key is registered. A missing key with the slot
    /// still ours means the target lost its registrations (a restart of tgt, a reset): register
    /// again. A host that breaks our locks bumps our generation before it preempts our key, so
    /// a missing key after a takeover always comes with a bumped slot, and that fences.
    ///
    /// `evenIfListed`: the caller's command met RESERVATION CONFLICT although the key may still
    /// be listed. Under Write Exclusive – Registrants Only a registered I_T nexus is never
    /// refused a write, so the listed key belongs to a session this initiator has since
    /// replaced: tgt 1.0.85 ties a registration to the session that made it, and after a
    /// restart and a reconnection it can list our key while refusing this session's commands.
    /// Registering the same key again (with the same slot checks) binds it to this session.
    /// A preempt removes every registration of a key, so this never outlives a takeover.
    /// Returns true when it registered the key again.
    @discardableResult
    func ensureRegistered(evenIfListed: Bool = false) async throws -> Bool {
        let key = host.reservationKey
        let listed = try await device.readReservationKeys().keys.contains(key)
        guard !listed || evenIfListed else { return false }
        _ = try await requireOwnSlot(listed ? "met RESERVATION CONFLICT with its key still listed" : "lost its reservation key")
        try await device.persistentReserveOut(.registerAndIgnoreExistingKey(newKey: key))
        // A takeover that bumped the slot between our read and our registration found no key
        // to preempt; it reads the keys only after its bump, so looking once more closes the gap.
        do {
            _ = try await requireOwnSlot("lost its reservation key while registering again")
        } catch {
            try? await device.persistentReserveOut(.register(existingKey: key, newKey: 0))
            throw error
        }
        state.withLockedValue { $0.reRegistrations += 1 }
        if listed {
            report(.registeredAgain("the target refused a command of host '\(host.name)' on \(volumeName) as unregistered while it still listed its reservation key (a registration of a session replaced since), and its heartbeat slot still carried generation \(generation); registered it again for this session"))
        } else {
            report(.registeredAgain("the target had lost the reservation key of host '\(host.name)' on \(volumeName) while its heartbeat slot still carried generation \(generation); registered it again"))
        }
        return true
    }

    /// A write or flush as a registrant: in reservation mode one that meets RESERVATION CONFLICT
    /// (the target forgot our key, as a restarted tgtd does, while another host holds the
    /// reservation for a lock update) registers again when that is safe, and is tried once more.
    /// Data, metadata (journal, home units, zeroed blocks) and flushes alike: a restarted target
    /// must not reach an export's client as RESERVATION CONFLICT.
    func asRegistrant<Result>(_ operation: () async throws -> Result) async throws -> Result {
        do {
            return try await operation()
        } catch let error as BlockDeviceError where error.code == .reservationConflict && header.lockMode == .reservations {
            do {
                try await ensureRegistered(evenIfListed: true)
            } catch let fenced as DatastoreError where fenced.code == .fenced {
                throw BlockDeviceError(.fenced, fenced.message, underlying: fenced)
            }
            return try await operation()
        }
    }

    func writeAsRegistrant(_ data: ByteBuffer, at lba: UInt64, fua: Bool) async throws {
        try await asRegistrant { try await device.write(data, at: lba, fua: fua) }
    }

    /// Tells the mount's observer what happened, outside any lock.
    func report(_ event: DatastoreEvent) {
        options.eventObserver?(event)
    }
}
