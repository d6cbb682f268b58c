// Persistent reservations over several I_T nexuses: one key, registered on every path.

import BlockDevice
import SCSI

extension MultipathDevice {
    /// Registrations go to every open path (the request itself on one, REGISTER AND IGNORE
    /// EXISTING KEY with the same new key on the others), so a registrants-only reservation lets
    /// every path write. RESERVE, PREEMPT and CLEAR go to one path, which then holds the
    /// reservation; RELEASE goes to that holder. When the holder has died, RELEASE is done
    /// from another path by preempting this host's own key first (which makes that path the
    /// holder and drops the key's other registrations), then registering the key again on
    /// every other path.
    public func persistentReserveOut(_ request: PersistentReserveOutRequest) async throws {
        switch request {
        case .register(_, let newKey), .registerAndIgnoreExistingKey(let newKey):
            let used = try await performTracked("PERSISTENT RESERVE OUT (\(request))") { device in
                try await device.persistentReserveOut(request)
            }
            inner.withLock { $0.registeredKey = newKey == 0 ? nil : newKey }
            await registerEverywhere(newKey, except: used)
        case .reserve, .preempt:
            let used = try await performTracked("PERSISTENT RESERVE OUT (\(request))") { device in
                try await device.persistentReserveOut(request)
            }
            inner.withLock { $0.reservationHolder = used }
        case .release(let key, let type):
            try await release(key: key, type: type)
        case .clear:
            _ = try await performTracked("PERSISTENT RESERVE OUT (clear)") { device in
                try await device.persistentReserveOut(request)
            }
            inner.withLock { inner in
                inner.registeredKey = nil
                inner.reservationHolder = nil
            }
        }
    }

    private func release(key: UInt64, type: PersistentReservationType) async throws {
        let holder = inner.withLock { inner -> (any SCSIBlockCommands)? in
            guard let holder = inner.reservationHolder, inner.slots[holder.index].generation == holder.generation else { return nil }
            return inner.slots[holder.index].device
        }
        if let holder {
            do {
                try await holder.persistentReserveOut(.release(key: key, type: type))
                inner.withLock { $0.reservationHolder = nil }
                return
            } catch {
                guard case .pathDown = PathFailure(error) else { throw error }
                // Fall through: the holder is gone; release from another path.
            }
        }
        let used = try await performTracked("PERSISTENT RESERVE OUT (release)") { device in
            if holder != nil || self.inner.withLock({ $0.reservationHolder != nil }) {
                try await device.persistentReserveOut(.preempt(key: key, victimKey: key, type: type, abort: false))
            }
            try await device.persistentReserveOut(.release(key: key, type: type))
        }
        let hadHolder = inner.withLock { inner -> Bool in
            defer { inner.reservationHolder = nil }
            return inner.reservationHolder != nil
        }
        if hadHolder { await registerEverywhere(key, except: used) }
    }

    /// Runs a command like `perform` and returns which path (and session) ran it.
    private func performTracked(_ operation: String, _ body: @escaping @Sendable (any SCSIBlockCommands) async throws -> Void) async throws -> (index: Int, generation: Int) {
        try await perform(operation, kind: .other, bytes: 0) { device, _ in
            try await body(device)
            return self.inner.withLock { inner in
                let index = inner.slots.firstIndex { $0.device === device } ?? 0
                return (index, inner.slots[index].generation)
            }
        }
    }

    /// REGISTER AND IGNORE EXISTING KEY `key` (zero: unregister) on every open path but `used`.
    /// A path that fails here is marked dead; it registers again when it reopens.
    private func registerEverywhere(_ key: UInt64, except used: (index: Int, generation: Int)) async {
        let others = inner.withLock { inner in
            inner.slots.indices.compactMap { index -> (Int, Int, any SCSIBlockCommands)? in
                guard index != used.index, let device = inner.slots[index].device else { return nil }
                return (index, inner.slots[index].generation, device)
            }
        }
        for (index, generation, device) in others {
            do {
                try await device.persistentReserveOut(.registerAndIgnoreExistingKey(newKey: key))
            } catch {
                if case .pathDown(let reason) = PathFailure(error) {
                    pathFailed(index, generation: generation, reason: reason, commandFailed: false)
                } else {
                    inner.withLock { $0.slots[index].reason = "could not register the reservation key on this path: \(error)" }
                }
            }
        }
    }

    /// On a path that just opened: registers this host's key on its nexus, but only while the
    /// key is still registered through some other nexus. A key no longer listed was preempted
    /// (another host took over, or the target forgot it): registering it again from here
    /// could undo a fence, so that is left to the datastore, which checks its generation first.
    func registerKey(on device: any SCSIBlockCommands) async throws {
        guard let key = inner.withLock({ $0.registeredKey }) else { return }
        let listed = try await device.readReservationKeys()
        guard listed.keys.contains(key) else {
            inner.withLock { inner in
                if inner.registeredKey == key { inner.registeredKey = nil }
            }
            return
        }
        try await device.persistentReserveOut(.registerAndIgnoreExistingKey(newKey: key))
    }
}
