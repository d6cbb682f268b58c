// Registrations and the persistent reservation of one logical unit, with the
// PERSISTENT RESERVE OUT service actions as pure state changes (SPC-5 §5.14).

import SCSI

/// Persistent reservation state; the logical unit holds it under its lock.
struct PersistentReservationState: Sendable {
    struct Registration: Sendable, Hashable {
        var nexus: Nexus
        var key: UInt64
    }

    struct Reservation: Sendable, Hashable {
        /// The nexus that reserved; for All Registrants types every registrant holds it.
        var holder: Nexus
        var type: PersistentReservationType
    }

    /// What a service action did to other nexuses.
    struct Effects: Sendable {
        var unitAttentions: [(Nexus, AdditionalSenseCode)] = []
        /// Nexuses whose task sets PREEMPT AND ABORT aborts.
        var abortedNexuses: [Nexus] = []
    }

    private(set) var generation: UInt32 = 0
    /// In registration order, which READ KEYS and READ FULL STATUS keep.
    private(set) var registrations: [Registration] = []
    private(set) var reservation: Reservation?

    func key(of nexus: Nexus) -> UInt64? {
        registrations.first { $0.nexus == nexus }?.key
    }

    func isHolder(_ nexus: Nexus) -> Bool {
        guard let reservation else { return false }
        if reservation.type.isAllRegistrants { return key(of: nexus) != nil }
        return reservation.holder == nexus
    }

    /// Whether `nexus` may run a command that reads (`writes` false) or changes the medium.
    func permits(writes: Bool, from nexus: Nexus) -> Bool {
        guard let reservation else { return true }
        if isHolder(nexus) { return true }
        if (reservation.type.isRegistrantsOnly || reservation.type.isAllRegistrants) && key(of: nexus) != nil {
            return true
        }
        return !writes && !reservation.type.excludesReads
    }

    // MARK: - PERSISTENT RESERVE OUT

    /// REGISTER, or REGISTER AND IGNORE EXISTING KEY when `ignoringKey`.
    mutating func register(nexus: Nexus, key: UInt64, newKey: UInt64, ignoringKey: Bool) throws(CommandFailure) -> Effects {
        var effects = Effects()
        if let existing = self.key(of: nexus) {
            guard ignoringKey || key == existing else { throw .reservationConflict }
            if newKey == 0 {
                effects = unregister(nexus)
            } else if let index = registrations.firstIndex(where: { $0.nexus == nexus }) {
                registrations[index].key = newKey
            }
        } else {
            guard ignoringKey || key == 0 else { throw .reservationConflict }
            // Unregistering a nexus that is not registered changes nothing.
            guard newKey != 0 else { return effects }
            registrations.append(Registration(nexus: nexus, key: newKey))
        }
        generation &+= 1
        return effects
    }

    /// Drops a registration, and the reservation with it when it was the holder's.
    private mutating func unregister(_ nexus: Nexus) -> Effects {
        var effects = Effects()
        registrations.removeAll { $0.nexus == nexus }
        guard let reservation else { return effects }
        if reservation.type.isAllRegistrants {
            if registrations.isEmpty { self.reservation = nil }
        } else if reservation.holder == nexus {
            self.reservation = nil
            if reservation.type.isRegistrantsOnly {
                effects.unitAttentions = registrations.map { ($0.nexus, .reservationsReleased) }
            }
        }
        return effects
    }

    mutating func reserve(nexus: Nexus, key: UInt64, type: PersistentReservationType) throws(CommandFailure) {
        guard let existing = self.key(of: nexus), existing == key else { throw .reservationConflict }
        if let reservation {
            guard isHolder(nexus), reservation.type == type else { throw .reservationConflict }
            return
        }
        reservation = Reservation(holder: nexus, type: type)
    }

    mutating func release(nexus: Nexus, key: UInt64, type: PersistentReservationType) throws(CommandFailure) -> Effects {
        guard let existing = self.key(of: nexus), existing == key else { throw .reservationConflict }
        guard let reservation, isHolder(nexus) else { return Effects() }
        guard reservation.type == type else {
            throw .check(.illegalRequest, .invalidReleaseOfPersistentReservation)
        }
        self.reservation = nil
        var effects = Effects()
        if reservation.type != .writeExclusive && reservation.type != .exclusiveAccess {
            effects.unitAttentions = registrations.filter { $0.nexus != nexus }.map { ($0.nexus, .reservationsReleased) }
        }
        return effects
    }

    mutating func clear(nexus: Nexus, key: UInt64) throws(CommandFailure) -> Effects {
        guard let existing = self.key(of: nexus), existing == key else { throw .reservationConflict }
        var effects = Effects()
        effects.unitAttentions = registrations.filter { $0.nexus != nexus }.map { ($0.nexus, .reservationsPreempted) }
        registrations.removeAll()
        reservation = nil
        generation &+= 1
        return effects
    }

    /// PREEMPT, or PREEMPT AND ABORT when `abort` (SPC-5 §5.14.11.5).
    /// `victimKeyOffset` is where SERVICE ACTION RESERVATION KEY sits in the parameter list.
    mutating func preempt(
        nexus: Nexus, key: UInt64, victimKey: UInt64, type: PersistentReservationType, abort: Bool,
        victimKeyOffset: Int = 8
    ) throws(CommandFailure) -> Effects {
        guard let existing = self.key(of: nexus), existing == key else { throw .reservationConflict }
        var removed: [Nexus] = []
        var effects = Effects()
        if let reservation, reservation.type.isAllRegistrants, victimKey == 0 {
            // Preempting an All Registrants reservation with key 0 takes it over outright.
            removed = registrations.filter { $0.nexus != nexus }.map(\.nexus)
            self.reservation = Reservation(holder: nexus, type: type)
        } else if let reservation, !reservation.type.isAllRegistrants, self.key(of: reservation.holder) == victimKey {
            removed = registrations.filter { $0.key == victimKey && $0.nexus != nexus }.map(\.nexus)
            self.reservation = Reservation(holder: nexus, type: type)
            if reservation.type != type {
                let kept = registrations.filter { $0.nexus != nexus && !removed.contains($0.nexus) }
                effects.unitAttentions += kept.map { ($0.nexus, .reservationsReleased) }
            }
        } else {
            guard victimKey != 0 else { throw .invalidFieldInParameterList(byte: victimKeyOffset) }
            removed = registrations.filter { $0.key == victimKey && $0.nexus != nexus }.map(\.nexus)
            guard !removed.isEmpty else { throw .reservationConflict }
        }
        registrations.removeAll { removed.contains($0.nexus) }
        effects.unitAttentions += removed.map { ($0, .registrationsPreempted) }
        if abort { effects.abortedNexuses = removed }
        generation &+= 1
        return effects
    }

    /// Forgets everything (a power loss; resets keep persistent reservations).
    mutating func removeAll() {
        registrations.removeAll()
        reservation = nil
    }
}
