// Unit and lock-sector I/O, and the one compare-and-swap primitive behind every lock
// and heartbeat: ATS where the LUN has it, a short reservation otherwise.

import BlockDevice
import NIOCore
import SCSI

extension Datastore {
    func readUnits(at offset: UInt64, count: Int) async throws -> ByteBuffer {
        try await device.read(at: offset / UInt64(sectorSize), blockCount: count * VolumeLayout.unitSize / sectorSize)
    }

    func readUnit(at offset: UInt64) async throws -> ByteBuffer {
        try await readUnits(at: offset, count: 1)
    }

    func writeBytes(_ data: ByteBuffer, at offset: UInt64, fua: Bool = false) async throws {
        try await writeAsRegistrant(data, at: offset / UInt64(sectorSize), fua: fua)
    }

    /// The lock sector at `offset`: one LUN block.
    func readSector(at offset: UInt64) async throws -> ByteBuffer {
        try await device.read(at: offset / UInt64(sectorSize), blockCount: 1)
    }

    /// Replaces the lock sector at `offset` with `replacement` if it still holds `expected`.
    /// Returns false when someone changed it first.
    func swapSector(at offset: UInt64, expected: ByteBuffer, replacement: ByteBuffer) async throws -> Bool {
        let lba = offset / UInt64(sectorSize)
        switch header.lockMode {
        case .ats:
            do {
                try await device.compareAndWrite(at: lba, expected: expected, replacement: replacement)
                return true
            } catch let error as BlockDeviceError where error.code == .miscompare {
                return false
            }
        case .reservations:
            var slow: Duration = .zero
            for _ in 0..<Self.maximumSlowHolds {
                if let matches = try await swapUnderReservation(lba: lba, expected: expected, replacement: replacement, slow: &slow) {
                    return matches
                }
            }
            throw DatastoreError(.busy, "\(volumeName): \(Self.maximumSlowHolds) lock-sector updates in a row held the reservation for up to \(slow) before their write (limit \(reservationHoldLimit / 2)); the LUN answers too slowly for a lease of \(options.lease)")
        }
    }

    /// How often a lock-sector update that held the reservation too long is tried again.
    static let maximumSlowHolds = 8

    /// One RESERVE, READ, compare, WRITE with FUA, RELEASE. Returns nil (and the hold time
    /// in `slow`) when the hold had lasted half of `reservationHoldLimit` by the time the
    /// READ returned: other hosts preempt a longer hold, and once preempted our WRITE would
    /// be refused only while someone holds the reservation; it could land over their newer
    /// image after they release it. So a slow hold is given up before writing.
    private func swapUnderReservation(lba: UInt64, expected: ByteBuffer, replacement: ByteBuffer, slow: inout Duration) async throws -> Bool? {
        let reserved = try await reserveForUpdate()
        do {
            let current = try await device.read(at: lba, blockCount: 1)
            let held = options.clock.now() - reserved
            guard held < reservationHoldLimit / 2 else {
                slow = max(slow, held)
                try await device.persistentReserveOut(.release(key: host.reservationKey, type: Self.reservationType))
                return nil
            }
            let matches = current == expected
            if matches { try await device.write(replacement, at: lba, fua: true) }
            try await device.persistentReserveOut(.release(key: host.reservationKey, type: Self.reservationType))
            return matches
        } catch {
            try? await device.persistentReserveOut(.release(key: host.reservationKey, type: Self.reservationType))
            // A conflict inside our own hold: another host preempted us as dead (a host paused
            // mid-update wakes to a refused WRITE or RELEASE; our slot is bumped, so this
            // fences), or the target lost our key (restarted under us; it is registered again).
            // Either way this update failed; the caller's next one starts afresh.
            if let conflict = error as? BlockDeviceError, conflict.code == .reservationConflict {
                try await ensureRegistered()
            }
            throw error
        }
    }

    /// How long one host may hold the reservation (for one sector's read-modify-write, a few
    /// milliseconds normally) before other hosts preempt it as dead.
    ///
    /// It must be well under the lease: while the reservation is stuck with a host that died
    /// holding it (tgt keeps a reservation when its holder's session ends), no other host can
    /// renew its heartbeat. Preempting only after a whole lease, as FORMAT 1.0 first said,
    /// fenced every other host of the datastore, found on tgt with a writer SIGKILLed inside
    /// an update. A host waits up to an interval to notice the hold, then this limit, and must
    /// still renew within its lease: so at most (lease − 2 × interval) / 2, which is 5 s with
    /// the 3 s / 16 s defaults.
    var reservationHoldLimit: Duration {
        let limit = (options.lease - options.heartbeatInterval * 2) / 2
        return limit > .zero ? limit : options.lease / 4
    }

    /// RESERVE with this host's key, retrying while another host's short hold lasts, and
    /// preempting a holder that has kept the reservation past `reservationHoldLimit` (it died
    /// holding it). Gives up after a lease plus `lockWait`. Returns when the hold began.
    private func reserveForUpdate() async throws -> Duration {
        let key = host.reservationKey
        let started = options.clock.now()
        let deadline = started + options.lease + options.lockWait
        var attempts = 0
        var registeredAgain = false
        while true {
            attempts += 1
            do {
                try await device.persistentReserveOut(.reserve(key: key, type: Self.reservationType))
                state.withLockedValue { $0.reservationHolder = nil }
                return options.clock.now()
            } catch let error as BlockDeviceError where error.code == .reservationConflict {
                // A key the target lost is registered again and RESERVE tried at once; a key
                // another host preempted fences here.
                if try await ensureRegistered() { continue }
                let holder = try await device.readReservation().holder
                if holder == nil, !registeredAgain {
                    // Our key is registered and nobody holds the reservation, yet RESERVE
                    // conflicts: the target tied the registration to a session the initiator
                    // has since replaced after a lost connection (tgt 1.0.85 does, though the
                    // I_T nexus is the same). Registering the same key again binds it to this
                    // session; a host that was preempted is not listed and was handled above.
                    registeredAgain = true
                    try await device.persistentReserveOut(.registerAndIgnoreExistingKey(newKey: key))
                    continue
                }
                let now = options.clock.now()
                guard now < deadline, attempts < Self.maximumReserveAttempts else {
                    throw DatastoreError(.busy, "\(volumeName): could not reserve the LUN for a lock update in \(now - started) (\(attempts) attempts); holder key \(holder.map { String($0.key, radix: 16) } ?? "none")")
                }
                let preempt = state.withLockedValue { state -> UInt64? in
                    guard let holder else { state.reservationHolder = nil; return nil }
                    if let seen = state.reservationHolder, seen.key == holder.key {
                        return now - seen.since >= reservationHoldLimit ? holder.key : nil
                    }
                    state.reservationHolder = (holder.key, now)
                    return nil
                }
                if let victim = preempt {
                    do {
                        try await device.persistentReserveOut(.preempt(key: key, victimKey: victim, type: Self.reservationType, abort: false))
                    } catch let error as BlockDeviceError where error.code == .reservationConflict {
                        // Another waiting host preempted the same holder first: just reserve again.
                    }
                    continue
                }
                // A real pause, not the injected clock's: it only spaces the retries out,
                // and a test clock that nobody advances must not stall them.
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// Write Exclusive, Registrants Only: the reservation orders lock updates among hosts
    /// while every registered host keeps writing data and journals (plain Write Exclusive
    /// would fail their writes with RESERVATION CONFLICT during every lock update); a host
    /// preempted as dead loses its registration, so it can never reserve again.
    static let reservationType = PersistentReservationType.writeExclusiveRegistrantsOnly

    /// A bound on RESERVE retries besides the time one, for clocks that do not advance:
    /// 2000 pauses of 20 ms is longer than any lease.
    static let maximumReserveAttempts = 2000
}
