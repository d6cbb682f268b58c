// The one table of commands a logical unit implements. Dispatch, CDB validation,
// REPORT SUPPORTED OPERATION CODES and docs/VSCSI.md are all derived from it.

import SCSI

/// The implemented commands, in opcode order, and lookups into them.
enum CommandTable {
    // Shorthands for the usage maps: L4/L8 an LBA, the last byte the CONTROL byte
    // (0: NACA and linking are not supported, so any bit set there is refused).
    private static let lba4: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF]
    private static let lba8: [UInt8] = lba4 + lba4
    /// GROUP NUMBER: accepted and ignored.
    private static let group: UInt8 = 0x3F
    /// DPO and FUA.
    private static let cacheBits: UInt8 = 0x18
    /// DPO and the 2-bit BYTCHK of VERIFY and WRITE AND VERIFY.
    private static let verifyBits: UInt8 = 0x16

    static let all: [CommandDescriptor] = [
        .init(.testUnitReady, .testUnitReady, usage: [0x00, 0, 0, 0, 0, 0], access: .unrestricted,
              notes: "NOT READY while stopped or sanitizing"),
        .init(.requestSense, .requestSense, usage: [0x03, 0x01, 0, 0, 0xFF, 0], access: .unrestricted,
              rules: [.ignoresUnitAttention, .allowedDuringSanitize],
              notes: "DESC; returns and clears a pending unit attention, sanitize progress"),
        .init(.read6, .read6, usage: [0x08, 0x1F, 0xFF, 0xFF, 0xFF, 0], access: .read, rules: [.needsMedium],
              notes: "21-bit LBA; transfer length 0 means 256 blocks"),
        .init(.write6, .write6, usage: [0x0A, 0x1F, 0xFF, 0xFF, 0xFF, 0], access: .write,
              rules: [.needsMedium, .modifiesMedium], notes: "21-bit LBA; transfer length 0 means 256 blocks"),
        .init(.inquiry, .inquiry, usage: [0x12, 0x01, 0xFF, 0xFF, 0xFF, 0], access: .unrestricted,
              rules: [.ignoresUnitAttention, .allowedDuringSanitize],
              notes: "standard data; VPD 0x00, 0x80, 0x83, 0xB0, 0xB1, 0xB2"),
        .init(.modeSelect6, .modeSelect6, usage: [0x15, 0x11, 0, 0, 0xFF, 0], access: .write,
              notes: "PF required, SP refused; caching, control, informational exceptions pages"),
        .init(.reserve6, .reserve6, usage: [0x16, 0, 0, 0, 0, 0], access: .legacyReservation,
              notes: "SPC-2 reservation of the whole unit; no third-party or extents"),
        .init(.release6, .release6, usage: [0x17, 0, 0, 0, 0, 0], access: .legacyReservation,
              notes: "SPC-2 release; GOOD without effect for a non-holder"),
        .init(.modeSense6, .modeSense6, usage: [0x1A, 0x08, 0xFF, 0xFF, 0xFF, 0], access: .read,
              notes: "DBD; current, changeable and default values; saved values are not kept"),
        .init(.startStopUnit, .startStopUnit, usage: [0x1B, 0x01, 0, 0x0F, 0xF7, 0], access: .startStop,
              notes: "START/stop with NO_FLUSH; POWER CONDITION 0 only; LOEJ ignored (not removable)"),
        .init(.readCapacity10, .readCapacity10, usage: [0x25, 0] + lba4 + [0, 0, 0x01, 0], access: .unrestricted,
              notes: "0xFFFFFFFF past 32 bits; PMI 0 with an LBA is refused"),
        .init(.read10, .read10, usage: [0x28, cacheBits] + lba4 + [group, 0xFF, 0xFF, 0], access: .read,
              rules: [.needsMedium], notes: "DPO, FUA; RDPROTECT refused (no protection information)"),
        .init(.write10, .write10, usage: [0x2A, cacheBits] + lba4 + [group, 0xFF, 0xFF, 0], access: .write,
              rules: [.needsMedium, .modifiesMedium], notes: "DPO, FUA (FUA also when WCE is 0)"),
        .init(.writeAndVerify10, .writeAndVerify10, usage: [0x2E, verifyBits] + lba4 + [group, 0xFF, 0xFF, 0],
              access: .write, rules: [.needsMedium, .modifiesMedium], notes: "BYTCHK 0 or 1; written with FUA, then read back"),
        .init(.verify10, .verify10, usage: [0x2F, verifyBits] + lba4 + [group, 0xFF, 0xFF, 0], access: .read,
              rules: [.needsMedium], notes: "BYTCHK 0 (medium), 1 (compare), 3 (one block against each)"),
        .init(.preFetch10, .preFetch10, usage: [0x34, 0x02] + lba4 + [group, 0xFF, 0xFF, 0], access: .read,
              rules: [.needsMedium], notes: "reads the range ahead; CONDITION MET when it fit the prefetch limit"),
        .init(.synchronizeCache10, .synchronizeCache10, usage: [0x35, 0x02] + lba4 + [group, 0xFF, 0xFF, 0],
              access: .write, rules: [.needsMedium], notes: "range checked, then the whole device flushed"),
        .init(.readDefectData10, .readDefectData10, usage: [0x37, 0, 0x1F, 0, 0, 0, 0, 0xFF, 0xFF, 0], access: .read,
              notes: "empty primary and grown lists"),
        .init(.writeSame10, .writeSame10, usage: [0x41, 0x08] + lba4 + [group, 0xFF, 0xFF, 0], access: .write,
              rules: [.needsMedium, .modifiesMedium], timeout: 120,
              notes: "Data-Out one block; UNMAP deallocates on thin units; a count of 0 runs to the last block (WSNZ 0); ANCHOR refused"),
        .init(.unmap, .unmap, usage: [0x42, 0, 0, 0, 0, 0, group, 0xFF, 0xFF, 0], access: .write,
              rules: [.needsMedium, .modifiesMedium, .thinOnly], timeout: 120,
              notes: "thin units only; ANCHOR refused; a cut-off last descriptor is ignored"),
        // SANITIZE and the PERSISTENT RESERVE commands have service actions (SPC-5 §6.36.1, §6.16,
        // §6.17, SBC-4 §5.30): one row per action, so REPORT SUPPORTED OPERATION CODES lists each
        // with SERVACTV and an unimplemented action is an unknown service action.
        .init(.sanitize, .sanitize, serviceAction: 0x01, usage: [0x48, 0xBF, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0], access: .write,
              rules: [.modifiesMedium], timeout: 3600, notes: "OVERWRITE: the pattern, OWCOUNT times, INVERT; IMMED"),
        .init(.sanitize, .sanitize, serviceAction: 0x02, usage: [0x48, 0xBF, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0], access: .write,
              rules: [.modifiesMedium], timeout: 3600, notes: "BLOCK ERASE: deallocate (thin, LBPRZ) or zero; IMMED"),
        .init(.sanitize, .sanitize, serviceAction: 0x03, usage: [0x48, 0xBF, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0], access: .write,
              rules: [.modifiesMedium], timeout: 3600, notes: "CRYPTOGRAPHIC ERASE: as BLOCK ERASE; IMMED"),
        .init(.sanitize, .sanitize, serviceAction: 0x1F, usage: [0x48, 0xBF, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0], access: .write,
              rules: [.modifiesMedium], timeout: 3600, notes: "EXIT FAILURE MODE"),
        .init(.modeSelect10, .modeSelect10, usage: [0x55, 0x11, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0], access: .write,
              notes: "as MODE SELECT(6), with long LBA block descriptors"),
        .init(.reserve10, .reserve10, usage: [0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0], access: .legacyReservation,
              notes: "as RESERVE(6); 3RDPTY and LONGID refused"),
        .init(.release10, .release10, usage: [0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0], access: .legacyReservation,
              notes: "as RELEASE(6)"),
        .init(.modeSense10, .modeSense10, usage: [0x5A, 0x18, 0xFF, 0xFF, 0, 0, 0, 0xFF, 0xFF, 0], access: .read,
              notes: "LLBAA, DBD"),
        .init(.persistentReserveIn, .persistentReserveIn, serviceAction: 0x00, usage: [0x5E, 0x1F, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0],
              access: .persistentReservation, notes: "READ KEYS"),
        .init(.persistentReserveIn, .persistentReserveIn, serviceAction: 0x01, usage: [0x5E, 0x1F, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0],
              access: .persistentReservation, notes: "READ RESERVATION"),
        .init(.persistentReserveIn, .persistentReserveIn, serviceAction: 0x02, usage: [0x5E, 0x1F, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0],
              access: .persistentReservation, notes: "REPORT CAPABILITIES"),
        .init(.persistentReserveIn, .persistentReserveIn, serviceAction: 0x03, usage: [0x5E, 0x1F, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0],
              access: .persistentReservation, notes: "READ FULL STATUS"),
        .init(.persistentReserveOut, .persistentReserveOut, serviceAction: 0x00,
              usage: [0x5F, 0x1F, 0xFF, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0], access: .persistentReservation,
              notes: "REGISTER; no SPEC_I_PT, ALL_TG_PT, APTPL"),
        .init(.persistentReserveOut, .persistentReserveOut, serviceAction: 0x01,
              usage: [0x5F, 0x1F, 0xFF, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0], access: .persistentReservation, notes: "RESERVE"),
        .init(.persistentReserveOut, .persistentReserveOut, serviceAction: 0x02,
              usage: [0x5F, 0x1F, 0xFF, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0], access: .persistentReservation, notes: "RELEASE"),
        .init(.persistentReserveOut, .persistentReserveOut, serviceAction: 0x03,
              usage: [0x5F, 0x1F, 0xFF, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0], access: .persistentReservation, notes: "CLEAR"),
        .init(.persistentReserveOut, .persistentReserveOut, serviceAction: 0x04,
              usage: [0x5F, 0x1F, 0xFF, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0], access: .persistentReservation, notes: "PREEMPT"),
        .init(.persistentReserveOut, .persistentReserveOut, serviceAction: 0x05,
              usage: [0x5F, 0x1F, 0xFF, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0], access: .persistentReservation,
              notes: "PREEMPT AND ABORT"),
        .init(.persistentReserveOut, .persistentReserveOut, serviceAction: 0x06,
              usage: [0x5F, 0x1F, 0xFF, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0], access: .persistentReservation,
              notes: "REGISTER AND IGNORE EXISTING KEY"),
        .init(.extendedCopy, .thirdPartyCopyOut, serviceAction: 0x00,
              usage: [0x83, 0x1F, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0], access: .write,
              rules: [.needsMedium], timeout: 600,
              notes: "LID1; identification CSCDs (0xE4, NAA) and block-to-block segments (0x02)"),
        .init(.receiveCopyStatus, .thirdPartyCopyIn, serviceAction: 0x00,
              usage: [0x84, 0x1F, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0], access: .read,
              notes: "status of an EXTENDED COPY by list identifier, per I_T nexus"),
        .init(.receiveCopyOperatingParameters, .thirdPartyCopyIn, serviceAction: 0x03,
              usage: [0x84, 0x1F, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0], access: .read,
              notes: "copy manager limits and the two descriptor types"),
        .init(.read16, .read16, usage: [0x88, cacheBits] + lba8 + lba4 + [group, 0], access: .read,
              rules: [.needsMedium], notes: "as READ(10) with a 64-bit LBA"),
        .init(.compareAndWrite, .compareAndWrite, usage: [0x89, cacheBits] + lba8 + [0, 0, 0, 0xFF, group, 0],
              access: .write, rules: [.needsMedium, .modifiesMedium],
              notes: "atomic against every write to the range from any nexus; MISCOMPARE with the offset"),
        .init(.write16, .write16, usage: [0x8A, cacheBits] + lba8 + lba4 + [group, 0], access: .write,
              rules: [.needsMedium, .modifiesMedium], notes: "as WRITE(10) with a 64-bit LBA"),
        .init(.orWrite16, .orWrite16, usage: [0x8B, cacheBits] + lba8 + lba4 + [group, 0], access: .write,
              rules: [.needsMedium, .modifiesMedium], notes: "OR of the data into the blocks, atomic for the range"),
        .init(.writeAndVerify16, .writeAndVerify16, usage: [0x8E, verifyBits] + lba8 + lba4 + [group, 0],
              access: .write, rules: [.needsMedium, .modifiesMedium], notes: "as WRITE AND VERIFY(10)"),
        .init(.verify16, .verify16, usage: [0x8F, verifyBits] + lba8 + lba4 + [group, 0], access: .read,
              rules: [.needsMedium], notes: "as VERIFY(10)"),
        .init(.preFetch16, .preFetch16, usage: [0x90, 0x02] + lba8 + lba4 + [group, 0], access: .read,
              rules: [.needsMedium], notes: "as PRE-FETCH(10)"),
        .init(.synchronizeCache16, .synchronizeCache16, usage: [0x91, 0x02] + lba8 + lba4 + [group, 0],
              access: .write, rules: [.needsMedium], notes: "as SYNCHRONIZE CACHE(10)"),
        .init(.writeSame16, .writeSame16, usage: [0x93, 0x09] + lba8 + lba4 + [group, 0], access: .write,
              rules: [.needsMedium, .modifiesMedium], timeout: 120, notes: "as WRITE SAME(10), plus NDOB (zeros)"),
        .init(.writeAtomic16, .writeAtomic16, usage: [0x9C, cacheBits] + lba8 + [0xFF, 0xFF, 0xFF, 0xFF, group, 0],
              access: .write, rules: [.needsMedium, .modifiesMedium],
              notes: "ATOMIC BOUNDARY must be 0; all or nothing against other commands of this unit"),
        .init(.readCapacity16, .serviceActionIn16, serviceAction: 0x10,
              usage: [0x9E, 0x1F, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0], access: .unrestricted,
              notes: "LBPME for thin units, LBPRZ when unmapped blocks read as zeros; LBPPBE from the physical block size"),
        .init(.getLBAStatus, .serviceActionIn16, serviceAction: 0x12,
              usage: [0x9E, 0x1F] + lba8 + [0xFF, 0xFF, 0xFF, 0xFF, 0x03, 0], access: .read, rules: [.needsMedium],
              notes: "mapped and deallocated runs from LBAStatusReporting devices; otherwise all mapped"),
        .init(.reportLUNs, .reportLUNs, usage: [0xA0, 0, 0xFF, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0],
              access: .unrestricted, rules: [.ignoresUnitAttention, .allowedDuringSanitize],
              notes: "SELECT REPORT 0, 1, 2; the LUN list comes from the export"),
        .init(.reportSupportedOperationCodes, .maintenanceIn, serviceAction: 0x0C,
              usage: [0xA3, 0x1F, 0x87, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0], access: .unrestricted,
              notes: "all commands or one, with its CDB usage map, RCTD timeouts; from this table"),
        .init(.reportSupportedTaskManagementFunctions, .maintenanceIn, serviceAction: 0x0D,
              usage: [0xA3, 0x1F, 0x80, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0], access: .unrestricted,
              notes: "ABORT TASK, ABORT TASK SET, LOGICAL UNIT RESET, TARGET RESET; REPD"),
        .init(.read12, .read12, usage: [0xA8, cacheBits] + lba4 + lba4 + [group, 0], access: .read,
              rules: [.needsMedium], notes: "as READ(10) with a 32-bit transfer length"),
        .init(.write12, .write12, usage: [0xAA, cacheBits] + lba4 + lba4 + [group, 0], access: .write,
              rules: [.needsMedium, .modifiesMedium], notes: "as WRITE(10) with a 32-bit transfer length"),
        .init(.writeAndVerify12, .writeAndVerify12, usage: [0xAE, verifyBits] + lba4 + lba4 + [group, 0],
              access: .write, rules: [.needsMedium, .modifiesMedium], notes: "as WRITE AND VERIFY(10)"),
        .init(.verify12, .verify12, usage: [0xAF, verifyBits] + lba4 + lba4 + [group, 0], access: .read,
              rules: [.needsMedium], notes: "as VERIFY(10)"),
        .init(.readDefectData12, .readDefectData12, usage: [0xB7, 0x1F] + lba4 + lba4 + [0, 0], access: .read,
              notes: "empty primary and grown lists"),
    ]

    /// What a CDB's first bytes select.
    enum Lookup {
        case command(CommandDescriptor)
        case unknownOperationCode
        /// The opcode is implemented for some service actions, not this one.
        case unknownServiceAction
    }

    private static let byKey: [UInt16: CommandDescriptor] = Dictionary(
        all.map { (key($0.operationCode.rawValue, $0.serviceAction ?? 0), $0) },
        uniquingKeysWith: { first, _ in first }
    )

    private static let byKind: [CommandKind: CommandDescriptor] = Dictionary(
        all.map { ($0.kind, $0) },
        uniquingKeysWith: { first, _ in first }
    )

    /// Opcodes whose commands are told apart by the service action in byte 1.
    static let serviceActionOpcodes: Set<UInt8> = Set(all.filter { $0.serviceAction != nil }.map(\.operationCode.rawValue))

    private static func key(_ opcode: UInt8, _ serviceAction: UInt8) -> UInt16 {
        UInt16(opcode) << 8 | UInt16(serviceAction)
    }

    static func lookup(operationCode: UInt8, byte1: UInt8) -> Lookup {
        if serviceActionOpcodes.contains(operationCode) {
            if let found = byKey[key(operationCode, byte1 & 0x1F)] { return .command(found) }
            return .unknownServiceAction
        }
        if let found = byKey[key(operationCode, 0)] { return .command(found) }
        return .unknownOperationCode
    }

    static func descriptor(for kind: CommandKind) -> CommandDescriptor {
        guard let found = byKind[kind] else { preconditionFailure("command \(kind) has no row in the command table") }
        return found
    }
}
