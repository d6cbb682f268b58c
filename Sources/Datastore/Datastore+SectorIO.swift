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
        try await device.write(data, at: offset / UInt64(sectorSize), fua: fua)
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
            try await reserveForUpdate()
            do {
                let current = try await device.read(at: lba, blockCount: 1)
                let matches = current == expected
                if matches { try await device.write(replacement, at: lba, fua: true) }
                try await device.persistentReserveOut(.release(key: host.reservationKey, type: Self.reservationType))
                return matches
            } catch {
                try? await device.persistentReserveOut(.release(key: host.reservationKey, type: Self.reservationType))
                throw error
            }
        }
    }

    /// RESERVE with this host's key, retrying while another host's short hold lasts, and
    /// preempting a holder that has kept the reservation for a whole lease (it died holding
    /// it). Gives up after a lease plus `lockWait`, by which time any holder was preempted.
    private func reserveForUpdate() async throws {
        let key = host.reservationKey
        let started = options.clock.now()
        let deadline = started + options.lease + options.lockWait
        var attempts = 0
        while true {
            attempts += 1
            do {
                try await device.persistentReserveOut(.reserve(key: key, type: Self.reservationType))
                state.withLockedValue { $0.reservationHolder = nil }
                return
            } catch let error as BlockDeviceError where error.code == .reservationConflict {
                // A preempted host has lost its registration: it was presumed dead and must stop.
                guard try await device.readReservationKeys().keys.contains(key) else {
                    let reason = "host '\(host.name)' lost its reservation key on \(volumeName): another host preempted it as dead"
                    fence(reason)
                    throw DatastoreError(.fenced, reason)
                }
                let holder = try await device.readReservation().holder
                let now = options.clock.now()
                guard now < deadline, attempts < Self.maximumReserveAttempts else {
                    throw DatastoreError(.busy, "\(volumeName): could not reserve the LUN for a lock update in \(now - started) (\(attempts) attempts); holder key \(holder.map { String($0.key, radix: 16) } ?? "none")")
                }
                let preempt = state.withLockedValue { state -> UInt64? in
                    guard let holder else { state.reservationHolder = nil; return nil }
                    if let seen = state.reservationHolder, seen.key == holder.key {
                        return now - seen.since >= options.lease ? holder.key : nil
                    }
                    state.reservationHolder = (holder.key, now)
                    return nil
                }
                if let victim = preempt {
                    try await device.persistentReserveOut(.preempt(key: key, victimKey: victim, type: Self.reservationType, abort: false))
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
