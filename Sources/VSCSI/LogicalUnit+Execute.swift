// Running one command: look it up in the command table, admit it (unit attentions,
// sanitize, CDB checks, reservations, start/stop, write protect), dispatch it, and
// turn whatever came back into status, sense and Data-In.

import BlockDevice
import NIOCore
import SCSI

extension LogicalUnit {
    /// Executes one command. Never throws and never traps on bad input: every
    /// failure is reported as a status with sense data.
    public func execute(_ request: SCSICommandRequest) async -> SCSICommandResponse {
        let cdb = request.cdb
        let lookup: CommandTable.Lookup = cdb.isEmpty
            ? .unknownOperationCode
            : CommandTable.lookup(operationCode: cdb[0], byte1: cdb.count > 1 ? cdb[1] : 0)
        guard let statistics, case .command(let descriptor) = lookup, let kind = descriptor.kind.ioKind else {
            return await execute(request, lookup)
        }
        // Data commands are timed from here, so refusals at admission count too.
        let started = ContinuousClock.now
        let response = await execute(request, lookup)
        let succeeded = response.status == .good
        statistics.record(
            kind, bytes: succeeded ? response.movedBytes(kind, request: request) : 0,
            latency: ContinuousClock.now - started, succeeded: succeeded
        )
        return response
    }

    private func execute(_ request: SCSICommandRequest, _ lookup: CommandTable.Lookup) async -> SCSICommandResponse {
        let (admission, descriptorSense) = state.withLockedValue { state in
            (admit(request, lookup, &state), state.mode.descriptorSense)
        }
        let context: CommandContext
        switch admission {
        case .failure(let failure):
            return response(for: failure, descriptorSense: descriptorSense)
        case .success(let admitted):
            context = admitted
        }
        do {
            let result = try await dispatch(context)
            return response(for: result, request: request)
        } catch {
            let failure = commandFailure(for: error, context: context)
            let descriptorSense = state.withLockedValue { $0.mode.descriptorSense }
            return response(for: failure, descriptorSense: descriptorSense)
        }
    }

    /// The checks every command passes before its handler, in SAM-5's order of
    /// precedence: unit attention, sanitize, CDB, reservation, readiness, protection.
    private func admit(
        _ request: SCSICommandRequest, _ lookup: CommandTable.Lookup, _ state: inout LogicalUnitState
    ) -> Result<CommandContext, CommandFailure> {
        let nexus = request.nexus
        if state.seen.insert(nexus).inserted {
            state.queueUnitAttention(.powerOnResetOrBusDeviceResetOccurred, for: nexus)
        } else if !state.lostNexuses.isEmpty {
            state.lostNexuses[nexus] = nil
        }
        let descriptor: CommandDescriptor?
        if case .command(let found) = lookup { descriptor = found } else { descriptor = nil }
        let rules = descriptor?.rules ?? []

        if !rules.contains(.ignoresUnitAttention), let code = state.popUnitAttention(for: nexus) {
            return .failure(.check(.unitAttention, code))
        }
        if !rules.contains(.allowedDuringSanitize), let sanitizing = sanitizeInProgress(state) {
            return .failure(sanitizing)
        }
        guard let descriptor else {
            if case .unknownServiceAction = lookup { return .failure(.invalidFieldInCDB(byte: 1, bit: 4)) }
            return .failure(.invalidOperationCode)
        }
        if rules.contains(.thinOnly) && !isThin {
            return .failure(.invalidOperationCode)
        }
        guard request.cdb.count >= descriptor.cdbLength else {
            // The transport delivered fewer CDB bytes than the command has.
            return .failure(.check(.illegalRequest, .invalidFieldInCDB))
        }
        let cdbBytes = Array(request.cdb.prefix(descriptor.cdbLength))
        if let (byte, bit) = descriptor.firstUnexpectedBit(in: cdbBytes) {
            return .failure(.invalidFieldInCDB(byte: byte, bit: bit))
        }
        let cdb = CDBFields(bytes: cdbBytes)
        if let failure = accessFailure(descriptor.access, startStopCDB: cdb, rules: rules, isSanitize: descriptor.kind == .sanitize, nexus, state) {
            return .failure(failure)
        }
        let writeProtected = options.writeProtected || state.mode.softwareWriteProtect
        return .success(CommandContext(
            request: request,
            cdb: cdb,
            descriptor: descriptor,
            writeProtected: writeProtected,
            writeCacheEnabled: state.mode.writeCacheEnabled,
            abortGeneration: state.abortGenerations[nexus] ?? 0
        ))
    }

    /// NOT READY, SANITIZE IN PROGRESS while a sanitize runs.
    func sanitizeInProgress(_ state: LogicalUnitState) -> CommandFailure? {
        guard case .running(let progress) = state.sanitize else { return nil }
        return .check(.notReady, .logicalUnitNotReadySanitizeInProgress, specific: .progressIndication(progress))
    }

    /// The admission checks after the CDB's, in SAM-5's order: a reservation of another
    /// nexus, then (for commands that need the medium) a stopped unit or a failed sanitize,
    /// then write protection for commands that change the medium.
    func accessFailure(
        _ access: ReservationAccess, startStopCDB cdb: CDBFields?, rules: CommandRules, isSanitize: Bool, _ nexus: Nexus, _ state: LogicalUnitState
    ) -> CommandFailure? {
        if let conflict = reservationConflict(access, startStopCDB: cdb, nexus, state) {
            return conflict
        }
        if rules.contains(.needsMedium) {
            if state.stopped {
                return .check(.notReady, .logicalUnitNotReadyInitializingCommandRequired)
            }
            if state.sanitize == .failed && !isSanitize {
                return .check(.mediumError, .sanitizeCommandFailed)
            }
        }
        if rules.contains(.modifiesMedium) && (options.writeProtected || state.mode.softwareWriteProtect) {
            return .writeProtected
        }
        return nil
    }

    /// RESERVATION CONFLICT when a reservation held through another nexus forbids the command.
    private func reservationConflict(
        _ descriptor: CommandDescriptor, _ cdb: CDBFields, _ nexus: Nexus, _ state: LogicalUnitState
    ) -> CommandFailure? {
        reservationConflict(descriptor.access, startStopCDB: cdb, nexus, state)
    }

    /// RESERVATION CONFLICT when a reservation held through another nexus forbids `access`;
    /// START STOP UNIT's CDB tells a plain start from the rest.
    func reservationConflict(
        _ access: ReservationAccess, startStopCDB cdb: CDBFields?, _ nexus: Nexus, _ state: LogicalUnitState
    ) -> CommandFailure? {
        if let holder = state.legacyReservationHolder, holder != nexus {
            // SPC-2: only commands that cannot disturb the holder, and RELEASE (a no-op), get through.
            switch access {
            case .unrestricted, .legacyReservation:
                return nil
            case .read, .write, .startStop, .persistentReservation:
                return .reservationConflict
            }
        }
        let reservations = state.persistentReservations
        switch access {
        case .unrestricted, .persistentReservation:
            return nil
        case .legacyReservation:
            return reservations.reservation == nil ? nil : .reservationConflict
        case .read:
            return reservations.permits(writes: false, from: nexus) ? nil : .reservationConflict
        case .write:
            return reservations.permits(writes: true, from: nexus) ? nil : .reservationConflict
        case .startStop:
            let plainStart = cdb.map { $0[4] & 0xF1 == 0x01 } ?? false
            return reservations.permits(writes: !plainStart, from: nexus) ? nil : .reservationConflict
        }
    }

    private func dispatch(_ context: CommandContext) async throws -> CommandResult {
        switch context.descriptor.kind {
        case .testUnitReady: try testUnitReady(context)
        case .requestSense: requestSense(context)
        case .inquiry: try inquiry(context)
        case .startStopUnit: try await startStopUnit(context)
        case .modeSense6, .modeSense10: try modeSense(context)
        case .modeSelect6, .modeSelect10: try modeSelect(context)
        case .reserve6, .reserve10: try reserve(context)
        case .release6, .release10: release(context)
        case .persistentReserveIn: try persistentReserveIn(context)
        case .persistentReserveOut: try persistentReserveOut(context)
        case .read6, .read10, .read12, .read16: try await read(context)
        case .write6, .write10, .write12, .write16: try await write(context)
        case .verify10, .verify12, .verify16: try await verify(context)
        case .writeAndVerify10, .writeAndVerify12, .writeAndVerify16: try await writeAndVerify(context)
        case .writeSame10, .writeSame16: try await writeSame(context)
        case .unmap: try await unmap(context)
        case .orWrite16: try await orWrite(context)
        case .writeAtomic16: try await writeAtomic(context)
        case .compareAndWrite: try await compareAndWrite(context)
        case .preFetch10, .preFetch16: try await preFetch(context)
        case .synchronizeCache10, .synchronizeCache16: try await synchronizeCache(context)
        case .readCapacity10: try readCapacity10(context)
        case .readCapacity16: readCapacity16(context)
        case .getLBAStatus: try await getLBAStatus(context)
        case .readDefectData10, .readDefectData12: readDefectData(context)
        case .reportLUNs: try reportLUNs(context)
        case .reportSupportedOperationCodes: try reportSupportedOperationCodes(context)
        case .reportSupportedTaskManagementFunctions: try reportSupportedTaskManagementFunctions(context)
        case .extendedCopy: try await extendedCopy(context)
        case .receiveCopyStatus: try receiveCopyStatus(context)
        case .receiveCopyOperatingParameters: receiveCopyOperatingParameters(context)
        case .sanitize: try await sanitize(context)
        }
    }

    /// TASK ABORTED when the nexus's task set was aborted after this command was admitted;
    /// called before anything touches the medium.
    func ensureNotAborted(_ context: CommandContext) throws(CommandFailure) {
        let current = state.withLockedValue { $0.abortGenerations[context.nexus] ?? 0 }
        if current != context.abortGeneration { throw .taskAborted }
    }

    private func response(for result: CommandResult, request: SCSICommandRequest) -> SCSICommandResponse {
        var data = result.data
        let available = data.readableBytes
        let wanted = min(available, result.allocationLength ?? available)
        let delivered = max(0, min(wanted, request.expectedDataInLength))
        if delivered < available {
            data = data.getSlice(at: data.readerIndex, length: delivered) ?? ByteBuffer()
        }
        return SCSICommandResponse(
            status: result.status,
            dataIn: data,
            transferLength: wanted > 0 ? wanted : result.dataOutLength
        )
    }

    func response(for failure: CommandFailure, descriptorSense: Bool) -> SCSICommandResponse {
        SCSICommandResponse(
            status: failure.status,
            sense: failure.sense.map { $0.encoded(as: descriptorSense ? .descriptor : .fixed) } ?? []
        )
    }
}
