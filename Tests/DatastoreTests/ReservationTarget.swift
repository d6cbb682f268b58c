// A stand-in for a SCSI target's persistent-reservation logic (SPC-5 §5.14) over one
// image file, so reservation-mode locking is tested without tgt.

import BlockDevice
import NIOConcurrencyHelpers
import NIOCore
import SCSI

/// Registrations and the reservation of one emulated LUN, shared by every nexus.
///
/// Each ``ReservingBlockDevice`` from `connect()` is one I_T nexus (one host's session).
/// Writes from a nexus the reservation excludes fail with RESERVATION CONFLICT, as on
/// a target; COMPARE AND WRITE does not exist, as on tgt.
final class ReservationTarget: Sendable {
    struct Holder: Sendable {
        var nexus: Int
        var key: UInt64
        var type: PersistentReservationType
    }

    struct State: Sendable {
        var registrations: [Int: UInt64] = [:]
        var holder: Holder?
        var generation: UInt32 = 0
        var nextNexus = 1
        /// RESERVATION CONFLICTs returned to writes, for tests that want to see fencing work.
        var refusedWrites = 0
    }

    let backing: FileBlockDevice
    let state = NIOLockedValueBox(State())
    /// Runs before each write's or flush's reservation check, with the nexus and the LBA
    /// written (nil for a flush): how a test makes the target restart at one exact command.
    let beforeWrite = NIOLockedValueBox<(@Sendable (_ nexus: Int, _ lba: UInt64?) -> Void)?>(nil)

    init(path: String) throws {
        backing = try FileBlockDevice(path: path)
    }

    /// A new I_T nexus to the LUN.
    func connect() -> ReservingBlockDevice {
        let nexus = state.withLockedValue { state in
            defer { state.nextNexus += 1 }
            return state.nextNexus
        }
        return ReservingBlockDevice(target: self, nexus: nexus)
    }

    var refusedWrites: Int { state.withLockedValue { $0.refusedWrites } }

    /// What a target that keeps registrations in memory (tgt) does when it restarts:
    /// every registration and the reservation are gone.
    func forgetRegistrations() {
        state.withLockedValue { state in
            state.registrations = [:]
            state.holder = nil
            state.generation = 0
        }
    }

    /// The target restarts, and `nexus` (another host) registers `key` again and takes the
    /// reservation for a lock update before anyone else speaks: everyone else's key is gone.
    func restartAndReserve(for nexus: Int, key: UInt64, type: PersistentReservationType) {
        state.withLockedValue { state in
            state.registrations = [nexus: key]
            state.holder = Holder(nexus: nexus, key: key, type: type)
            state.generation = 1
        }
    }

    /// What tgt 1.0.85 does once an initiator's session has been replaced after a
    /// reconnection: the old session's registration stays, so READ KEYS still lists the key,
    /// but the nexus that carries on is not registered. Then `holder` (another host's nexus,
    /// registered) takes the reservation for a lock update.
    func replaceSession(of nexus: Int, whileReserving holder: Int, type: PersistentReservationType) {
        state.withLockedValue { state in
            if let key = state.registrations.removeValue(forKey: nexus) {
                state.registrations[-nexus] = key
            }
            if let key = state.registrations[holder] {
                state.holder = Holder(nexus: holder, key: key, type: type)
            }
        }
    }

    func registeredKeys() -> [UInt64] { state.withLockedValue { Array($0.registrations.values) } }

    /// SPC-5 table 67, for the write column: who may write under which reservation type.
    /// SYNCHRONIZE CACHE follows the same column (SBC-4 table 13).
    func checkWrite(nexus: Int, lba: UInt64?, _ operation: String) throws {
        beforeWrite.withLockedValue { $0 }?(nexus, lba)
        let allowed = state.withLockedValue { state -> Bool in
            let permitted: Bool
            if let holder = state.holder {
                switch holder.type {
                case .writeExclusive, .exclusiveAccess:
                    permitted = holder.nexus == nexus
                case .writeExclusiveRegistrantsOnly, .exclusiveAccessRegistrantsOnly,
                     .writeExclusiveAllRegistrants, .exclusiveAccessAllRegistrants:
                    permitted = state.registrations[nexus] != nil
                }
            } else {
                permitted = true
            }
            if !permitted { state.refusedWrites += 1 }
            return permitted
        }
        guard allowed else {
            throw BlockDeviceError(.reservationConflict, "\(operation) from nexus \(nexus): RESERVATION CONFLICT")
        }
    }

    func reserveOut(_ request: PersistentReserveOutRequest, nexus: Int) throws {
        func conflict(_ why: String) -> BlockDeviceError {
            BlockDeviceError(.reservationConflict, "PERSISTENT RESERVE OUT \(request) from nexus \(nexus): \(why)")
        }
        try state.withLockedValue { state in
            let mine = state.registrations[nexus]
            switch request {
            case .register(let existing, let new):
                guard (mine ?? 0) == existing else { throw conflict("the existing key does not match") }
                register(&state, nexus: nexus, key: new)
            case .registerAndIgnoreExistingKey(let new):
                register(&state, nexus: nexus, key: new)
            case .reserve(let key, let type):
                guard mine == key else { throw conflict("the nexus is not registered with that key") }
                if let holder = state.holder {
                    guard holder.nexus == nexus, holder.type == type else { throw conflict("another reservation exists") }
                    return
                }
                state.holder = Holder(nexus: nexus, key: key, type: type)
            case .release(let key, let type):
                guard mine == key else { throw conflict("the nexus is not registered with that key") }
                guard let holder = state.holder, holder.nexus == nexus else { return }
                guard holder.type == type else {
                    throw BlockDeviceError(.invalidArgument, "RELEASE from nexus \(nexus) names type \(type), the reservation is \(holder.type)")
                }
                state.holder = nil
            case .clear(let key):
                guard mine == key else { throw conflict("the nexus is not registered with that key") }
                state.registrations = [:]
                state.holder = nil
                state.generation &+= 1
            case .preempt(let key, let victim, let type, _):
                guard mine == key else { throw conflict("the nexus is not registered with that key") }
                let victims = state.registrations.filter { $0.value == victim }.map(\.key)
                if let holder = state.holder, holder.key == victim {
                    for nexus in victims { state.registrations[nexus] = nil }
                    state.holder = Holder(nexus: nexus, key: key, type: type)
                } else {
                    guard !victims.isEmpty else { throw conflict("no registration has the victim key") }
                    for nexus in victims { state.registrations[nexus] = nil }
                }
                state.generation &+= 1
            }
        }
    }

    private func register(_ state: inout State, nexus: Int, key: UInt64) {
        if key == 0 {
            state.registrations[nexus] = nil
            if state.holder?.nexus == nexus { state.holder = nil }
        } else {
            state.registrations[nexus] = key
        }
        state.generation &+= 1
    }

    func keys() -> PersistentReservationKeys {
        state.withLockedValue { PersistentReservationKeys(generation: $0.generation, keys: Array($0.registrations.values).sorted()) }
    }

    func reservation() -> PersistentReservationStatus {
        state.withLockedValue { state in
            PersistentReservationStatus(
                generation: state.generation,
                holder: state.holder.map { PersistentReservationStatus.Holder(key: $0.key, type: $0.type) }
            )
        }
    }
}
