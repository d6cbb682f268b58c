// PERSISTENT RESERVE IN/OUT (SPC-5 §6.15-6.16) and the SPC-2 RESERVE/RELEASE.

import NIOCore
import SCSI

extension LogicalUnit {
    func persistentReserveIn(_ context: CommandContext) throws -> CommandResult {
        let allocationLength = Int(context.cdb.uint16(7))
        guard let action = PersistentReserveInServiceAction(rawValue: context.cdb[1] & 0x1F) else {
            throw CommandFailure.invalidFieldInCDB(byte: 1, bit: 4)
        }
        let reservations = state.withLockedValue { $0.persistentReservations }
        let data: [UInt8]
        switch action {
        case .readKeys:
            data = PersistentReservationKeys(
                generation: reservations.generation, keys: reservations.registrations.map(\.key)
            ).encoded()
        case .readReservation:
            let holder = reservations.reservation.map { reservation in
                // All Registrants reservations report a key of zero.
                PersistentReservationStatus.Holder(
                    key: reservation.type.isAllRegistrants ? 0 : reservations.key(of: reservation.holder) ?? 0,
                    type: reservation.type
                )
            }
            data = PersistentReservationStatus(generation: reservations.generation, holder: holder).encoded()
        case .reportCapabilities:
            // TMV with all six types; no CRH, SIP_C, ATP_C or PTPL_C.
            data = [0x00, 0x08, 0x00, 0x80, 0xEA, 0x01, 0x00, 0x00]
        case .readFullStatus:
            data = fullStatus(reservations)
        }
        return .data(data, allocationLength: allocationLength)
    }

    private func fullStatus(_ reservations: PersistentReservationState) -> [UInt8] {
        var descriptors: [UInt8] = []
        for registration in reservations.registrations {
            let transportID = Self.iSCSITransportID(registration.nexus.initiatorPortName)
            var descriptor = [UInt8](repeating: 0, count: 24)
            descriptor.put(registration.key, at: 0)
            if reservations.isHolder(registration.nexus), let reservation = reservations.reservation {
                descriptor[12] = 0x01  // R_HOLDER
                descriptor[13] = reservation.type.rawValue & 0x0F
            }
            descriptor.put(registration.nexus.relativeTargetPort, at: 18)
            descriptor.put(UInt32(transportID.count), at: 20)
            descriptors += descriptor + transportID
        }
        var header = [UInt8](repeating: 0, count: 8)
        header.put(reservations.generation, at: 0)
        header.put(UInt32(descriptors.count), at: 4)
        return header + descriptors
    }

    /// An iSCSI TransportID (SPC-5 §7.6.4.6): FORMAT CODE 01b when the name carries
    /// ",i,0x<ISID>" (an initiator port), 00b for a bare name; NUL-terminated, padded to 4.
    static func iSCSITransportID(_ name: String) -> [UInt8] {
        var body = Array(name.utf8.prefix(220)) + [0]
        while body.count % 4 != 0 || body.count < 16 { body.append(0) }
        let format: UInt8 = name.contains(",i,0x") ? 0x40 : 0x00
        var header: [UInt8] = [format | 0x05, 0, 0, 0]
        header.put(UInt16(body.count), at: 2)
        return header + body
    }

    func persistentReserveOut(_ context: CommandContext) throws -> CommandResult {
        let cdb = context.cdb
        let action = cdb[1] & 0x1F
        guard action <= 0x06 else { throw CommandFailure.invalidFieldInCDB(byte: 1, bit: 4) }
        let scope = cdb[2] >> 4
        let typeCode = cdb[2] & 0x0F
        let listLength = Int(cdb.uint32(5))
        // Without SPEC_I_PT the basic parameter list is exactly 24 bytes.
        guard listLength == 24 else { throw CommandFailure.parameterListLengthError }
        let list = Array(context.dataOut.readableBytesView.prefix(listLength))
        guard list.count == 24 else { throw CommandFailure.parameterListLengthError }
        let key = list.bigEndian(at: 0, width: 8)
        let serviceActionKey = list.bigEndian(at: 8, width: 8)
        let flags = list[20]
        if flags & 0x08 != 0 { throw CommandFailure.invalidFieldInParameterList(byte: 20, bit: 3) }  // SPEC_I_PT
        if flags & 0x04 != 0 { throw CommandFailure.invalidFieldInParameterList(byte: 20, bit: 2) }  // ALL_TG_PT
        if flags & 0x01 != 0 { throw CommandFailure.invalidFieldInParameterList(byte: 20, bit: 0) }  // APTPL

        // RESERVE, RELEASE and PREEMPT name a scope and a type; the others ignore them.
        let needsType = [0x01, 0x02, 0x04, 0x05].contains(action)
        var type: PersistentReservationType?
        if needsType {
            if scope != 0 { throw CommandFailure.invalidFieldInCDB(byte: 2, bit: 7) }
            guard let decoded = PersistentReservationType(rawValue: typeCode) else {
                throw CommandFailure.invalidFieldInCDB(byte: 2, bit: 3)
            }
            type = decoded
        }
        let nexus = context.nexus
        let effects = try withState { state -> Result<PersistentReservationState.Effects, CommandFailure> in
            var reservations = state.persistentReservations
            let effects: PersistentReservationState.Effects
            do throws(CommandFailure) {
            switch action {
            case 0x00, 0x06:
                effects = try reservations.register(nexus: nexus, key: key, newKey: serviceActionKey, ignoringKey: action == 0x06)
            case 0x01:
                try reservations.reserve(nexus: nexus, key: key, type: type!)
                effects = .init()
            case 0x02:
                effects = try reservations.release(nexus: nexus, key: key, type: type!)
            case 0x03:
                effects = try reservations.clear(nexus: nexus, key: key)
            default:
                effects = try reservations.preempt(
                    nexus: nexus, key: key, victimKey: serviceActionKey, type: type!, abort: action == 0x05
                )
            }
            } catch {
                return .failure(error)
            }
            state.persistentReservations = reservations
            for (target, code) in effects.unitAttentions { state.queueUnitAttention(code, for: target) }
            for aborted in effects.abortedNexuses {
                state.abortGenerations[aborted, default: 0] &+= 1
            }
            return .success(effects)
        }
        for aborted in effects.abortedNexuses { rangeLocks.abortWaiters(of: aborted) }
        return CommandResult(dataOutLength: listLength)
    }

    /// RESERVE(6/10): the whole unit for this nexus; another holder means a conflict.
    func reserve(_ context: CommandContext) throws -> CommandResult {
        let nexus = context.nexus
        try withState { state -> Result<Void, CommandFailure> in
            if let holder = state.legacyReservationHolder, holder != nexus { return .failure(.reservationConflict) }
            state.legacyReservationHolder = nexus
            return .success(())
        }
        return .good
    }

    /// RELEASE(6/10): only the holder's release has an effect; anyone else gets GOOD.
    func release(_ context: CommandContext) -> CommandResult {
        state.withLockedValue { state in
            if state.legacyReservationHolder == context.nexus { state.legacyReservationHolder = nil }
        }
        return .good
    }
}
