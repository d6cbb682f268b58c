// The task management entry points the transport calls (SAM-5 §7): ABORT TASK SET,
// the resets, and I_T nexus loss.

import SCSI

extension LogicalUnit {
    /// ABORT TASK SET (and ABORT TASK, which the transport narrows to one task it has
    /// not yet handed over): commands of `nexus` still waiting for a range end in TASK
    /// ABORTED, and those admitted but not yet at the medium stop before touching it.
    public func abortTaskSet(nexus: Nexus) {
        state.withLockedValue { $0.abortGenerations[nexus, default: 0] &+= 1 }
        rangeLocks.abortWaiters(of: nexus)
    }

    /// A LOGICAL UNIT RESET or target reset: every task is aborted, SPC-2 reservations
    /// are released, mode pages return to their defaults and each nexus gets a unit
    /// attention. Persistent reservations survive, as SPC-5 requires.
    public func reset(kind: ResetKind) {
        let code: AdditionalSenseCode
        switch kind {
        case .logicalUnit: code = .busDeviceResetFunctionOccurred
        case .targetWarm: code = .powerOnResetOrBusDeviceResetOccurred
        case .targetCold: code = .powerOnOccurred
        }
        let nexuses = state.withLockedValue { state -> [Nexus] in
            state.legacyReservationHolder = nil
            state.mode.restoreDefaults()
            for nexus in state.seen {
                state.abortGenerations[nexus, default: 0] &+= 1
                state.unitAttentions[nexus] = nil
                state.queueUnitAttention(code, for: nexus)
            }
            return Array(state.seen)
        }
        for nexus in nexuses { rangeLocks.abortWaiters(of: nexus) }
    }

    /// The transport lost the nexus (connection gone, session ended): its SPC-2
    /// reservation goes, its waiting commands end, and it is told when it returns,
    /// unless `LogicalUnitState.lostNexusMemory` nexuses were lost after it (then it
    /// is a stranger again and hears POWER ON, RESET).
    public func nexusLost(_ nexus: Nexus) {
        state.withLockedValue { state in
            if state.legacyReservationHolder == nexus { state.legacyReservationHolder = nil }
            state.abortGenerations[nexus, default: 0] &+= 1
            if state.seen.contains(nexus) {
                state.queueUnitAttention(.iTNexusLossOccurred, for: nexus)
                state.rememberLost(nexus)
            }
        }
        rangeLocks.abortWaiters(of: nexus)
    }
}
