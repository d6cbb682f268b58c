// SCSI commands on a target connection: admission, immediate and unsolicited data,
// R2Ts within MaxBurstLength and MaxOutstandingR2T, Data-Out checks, then Data-In
// and status with residuals (RFC 7143 §11.3-§11.8).

import ISCSI
import NIOCore
import SCSI

extension TargetConnectionStateMachine {
    mutating func scsiCommand(_ command: SCSICommand, pdu: ISCSIPDU, now: NIODeadline, into actions: inout [Action]) {
        let tag = command.initiatorTaskTag
        guard tag != reservedTag else {
            actions.append(reject(.invalidPDUField, pdu))
            return
        }
        guard tasks[tag] == nil else {
            // RFC 7143 §11.17.1: a new command reusing the tag of a live task.
            actions.append(reject(.taskInProgress, pdu))
            return
        }
        if command.immediate {
            guard immediateTasks < configuration.maximumImmediateTasks else {
                actions.append(reject(.immediateCommandRejected, pdu))
                return
            }
        }
        let edtl = Int(command.expectedDataTransferLength)
        let immediateLength = command.data.readableBytes
        // Data in the command without W, more of it than the EDTL, or past the first
        // burst break §11.3.4/§13.13-§13.14: the PDU is refused, the connection goes on.
        if immediateLength > 0 {
            guard command.write, parameters.immediateData, immediateLength <= edtl,
                immediateLength <= parameters.firstBurstLength
            else {
                actions.append(reject(.protocolError, pdu))
                return
            }
        }
        if !command.final {
            guard command.write, !parameters.initialR2T else {
                actions.append(reject(.protocolError, pdu))
                return
            }
        }
        var task = TargetTask(
            lun: command.lun, cdb: command.cdb, cmdSN: command.cmdSN, immediate: command.immediate,
            expectedDataInLength: command.read ? Int(command.bidirectionalReadDataLength ?? command.expectedDataTransferLength) : 0,
            phase: .executing, write: nil
        )
        if command.write && command.read, command.bidirectionalReadDataLength == nil {
            // Both bits without the bidirectional AHS: the EDTL is the write's (§11.3.5).
            task.expectedDataInLength = 0
        }
        guard edtl <= configuration.maximumTransferLength else {
            // Answered at once; the task never enters the table.
            actions += respond(tag, task, Self.tooLong(edtl, limit: configuration.maximumTransferLength))
            return
        }
        if command.write && edtl > 0 {
            let charge = ExportWriteBudget.charge(forExpectedLength: edtl)
            if let refusal = chargeWriteBudget(charge) {
                // Answered at once, before any of its data is asked for; the initiator retries later.
                actions += respond(tag, task, TargetCommandOutcome(status: refusal.rawValue, transferLength: task.expectedDataInLength))
                return
            }
            task.bufferCharge = charge
            // The buffer starts at the immediate data and grows as Data-Out arrives.
            let data = command.data.readableBytes > 0 ? command.data : ByteBuffer()
            let unsolicitedLimit = parameters.initialR2T ? immediateLength : min(parameters.firstBurstLength, edtl)
            task.write = WriteReception(
                expectedLength: edtl,
                data: data,
                lastProgress: now,
                unsolicitedOpen: !command.final,
                unsolicitedLimit: unsolicitedLimit,
                // Unsolicited data covers up to the first burst; R2Ts start where it will end.
                nextR2TOffset: command.final ? immediateLength : unsolicitedLimit
            )
        }
        task.phase = .receiving
        if command.immediate { immediateTasks += 1 }
        tasks[tag] = task
        advance(tag, into: &actions)
    }

    /// Moves a task on: R2Ts while data is missing, execution once all of it is in.
    mutating func advance(_ tag: UInt32, into actions: inout [Action]) {
        guard var task = tasks[tag], task.phase == .receiving else { return }
        if var write = task.write {
            if write.isComplete {
                write.outstanding.removeAll()
            } else {
                issueR2Ts(tag, task.lun, &write, into: &actions)
                task.write = write
                tasks[tag] = task
                return
            }
            task.write = write
        }
        task.phase = .executing
        var dataOut = task.write?.data ?? ByteBuffer()
        task.write?.data = ByteBuffer()
        tasks[tag] = task
        if dataOut.readableBytes == 0 { dataOut = ByteBuffer() }
        actions.append(.execute(TargetCommand(initiatorTaskTag: tag, lun: task.lun, cdb: task.cdb, dataOut: dataOut, expectedDataInLength: task.expectedDataInLength)))
    }

    private mutating func issueR2Ts(_ tag: UInt32, _ lun: UInt64, _ write: inout WriteReception, into actions: inout [Action]) {
        // Unsolicited data still due: the R2Ts wait for its last PDU (F bit).
        guard !write.unsolicitedOpen else { return }
        // Bounded: each turn moves nextR2TOffset forward by at least one byte.
        while write.outstanding.count < parameters.maxOutstandingR2T, write.nextR2TOffset < write.expectedLength {
            let length = min(parameters.maxBurstLength, write.expectedLength - write.nextR2TOffset)
            let solicitation = WriteReception.Solicitation(
                targetTransferTag: takeTargetTransferTag(), offset: write.nextR2TOffset, length: length,
                received: 0, nextDataSN: 0
            )
            write.outstanding.append(solicitation)
            actions.append(.send(.readyToTransfer(ReadyToTransfer(
                lun: lun, initiatorTaskTag: tag, targetTransferTag: solicitation.targetTransferTag,
                statSN: statSN, expCmdSN: window.expCmdSN, maxCmdSN: maxCmdSN(),
                r2tSN: write.nextR2TSN, bufferOffset: UInt32(solicitation.offset),
                desiredDataTransferLength: UInt32(length)
            ))))
            write.nextR2TSN &+= 1
            write.nextR2TOffset += length
        }
    }

    mutating func dataOut(_ data: DataOut, now: NIODeadline, into actions: inout [Action]) {
        let tag = data.initiatorTaskTag
        // Data for a task we no longer hold (aborted, or its command was dropped as outside
        // the window: RFC 7143 §4.2.3.3 lets the target discard it), or surplus data for a
        // task already running: nothing is waiting for it.
        guard tasks[tag]?.phase == .receiving, var write = tasks[tag]?.write else { return }
        // The table lets go of the reception while data is appended, so `write` holds the
        // only reference to the buffer and it grows in place: otherwise every PDU would copy
        // everything received so far (copy-on-write), quadratic in the write's length.
        tasks[tag]?.write = nil
        let failure = accept(data, into: &write)
        write.lastProgress = now
        tasks[tag]?.write = write
        if let failure { return dataError(tag, failure, into: &actions) }
        advance(tag, into: &actions)
    }

    /// Checks one Data-Out against the write's sequence and appends its data; the reason
    /// when the sequence is broken.
    private mutating func accept(_ data: DataOut, into write: inout WriteReception) -> String? {
        let tag = data.initiatorTaskTag
        let length = data.data.readableBytes
        let offset = Int(data.bufferOffset)
        guard offset == write.received else {
            return "Data-Out for task 0x\(hex(tag)) at offset \(offset), expected \(write.received) (DataPDUInOrder=Yes)"
        }
        if data.targetTransferTag == reservedTag {
            guard write.unsolicitedOpen else {
                return "unsolicited Data-Out for task 0x\(hex(tag)) after its first burst ended"
            }
            guard data.dataSN == write.unsolicitedDataSN else {
                return "unsolicited Data-Out for task 0x\(hex(tag)) has DataSN \(data.dataSN), expected \(write.unsolicitedDataSN)"
            }
            guard offset + length <= write.unsolicitedLimit else {
                return "unsolicited data for task 0x\(hex(tag)) passes FirstBurstLength/EDTL (\(write.unsolicitedLimit) bytes)"
            }
            write.unsolicitedDataSN &+= 1
            var payload = data.data
            write.data.writeBuffer(&payload)
            if data.final {
                write.unsolicitedOpen = false
                write.nextR2TOffset = write.received
            }
            return nil
        }
        guard let index = write.outstanding.firstIndex(where: { $0.targetTransferTag == data.targetTransferTag }) else {
            return "Data-Out for task 0x\(hex(tag)) names TTT 0x\(hex(data.targetTransferTag)), which no R2T gave"
        }
        var solicitation = write.outstanding[index]
        guard data.dataSN == solicitation.nextDataSN else {
            return "Data-Out for task 0x\(hex(tag)) has DataSN \(data.dataSN), expected \(solicitation.nextDataSN)"
        }
        guard offset >= solicitation.offset, offset + length <= solicitation.offset + solicitation.length else {
            return "Data-Out for task 0x\(hex(tag)) passes the end of its R2T"
        }
        solicitation.nextDataSN &+= 1
        solicitation.received += length
        var payload = data.data
        write.data.writeBuffer(&payload)
        let done = solicitation.received == solicitation.length
        guard done == data.final else {
            return "Data-Out for task 0x\(hex(tag)): F bit \(data.final) with \(solicitation.received) of \(solicitation.length) bytes of the R2T"
        }
        if done {
            write.outstanding.remove(at: index)
        } else {
            write.outstanding[index] = solicitation
        }
        return nil
    }

    /// Charges a new write against this connection's budget and the export's; the status
    /// to answer with when either is spent (TASK SET FULL for this connection's, BUSY for
    /// the export's, SAM-5 §5.3.1).
    private mutating func chargeWriteBudget(_ charge: Int) -> SCSIStatus? {
        // A connection's only write always passes its own budget (the EDTL limit bounds it),
        // so a budget below the largest write cannot refuse that write for ever.
        guard chargedWriteBytes == 0 || chargedWriteBytes + charge <= configuration.connectionWriteBudget else {
            configuration.exportWriteBudget?.countConnectionRefusal()
            return .taskSetFull
        }
        if let budget = configuration.exportWriteBudget, !budget.charge(charge) { return .busy }
        chargedWriteBytes += charge
        return nil
    }

    /// Fails every write whose Data-Out has not moved for the data-phase timeout: CHECK
    /// CONDITION, ABORTED COMMAND, INITIATOR RESPONSE TIMEOUT, and its buffer is freed.
    mutating func expireStalledWrites(now: NIODeadline) -> [Action] {
        guard let timeout = configuration.dataPhaseTimeout else { return [] }
        let stalled = tasks.compactMap { tag, task -> UInt32? in
            guard task.phase == .receiving, let write = task.write, now - write.lastProgress >= timeout else { return nil }
            return tag
        }
        var actions: [Action] = []
        for tag in stalled.sorted() {
            configuration.exportWriteBudget?.countDataTimeout()
            let seconds = Double(timeout.nanoseconds) / 1e9
            fail(tag, reason: "Data-Out for task 0x\(hex(tag)) stopped arriving for \(seconds) s", sense: .initiatorResponseTimeout, into: &actions)
        }
        return actions
    }

    /// A broken data sequence ends its task, not the connection: the command gets CHECK
    /// CONDITION, ABORTED COMMAND, DATA PHASE ERROR at once, and later Data-Out for it is
    /// discarded. ErrorRecoveryLevel 0 offers no way to ask for the data again.
    private mutating func dataError(_ tag: UInt32, _ reason: String, into actions: inout [Action]) {
        fail(tag, reason: reason, sense: .dataPhaseError, into: &actions)
    }

    /// Ends a write still receiving with CHECK CONDITION, ABORTED COMMAND and `sense`.
    private mutating func fail(_ tag: UInt32, reason: String, sense code: AdditionalSenseCode, into actions: inout [Action]) {
        guard let task = removeTask(tag) else { return }
        lastDataError = reason
        let sense = ExportSense.fixed(.abortedCommand, code)
        let expected = task.write?.expectedLength ?? 0
        actions += respond(tag, task, TargetCommandOutcome(status: SCSIStatus.checkCondition.rawValue, sense: sense, transferLength: expected))
    }

    // MARK: Responses

    /// Data-In split at the initiator's MaxRecvDataSegmentLength with F at every
    /// MaxBurstLength sequence end, and status collapsed into the last Data-In when
    /// there is no sense data (RFC 7143 §11.7.4); otherwise a SCSI Response.
    mutating func respond(_ tag: UInt32, _ task: TargetTask, _ outcome: TargetCommandOutcome) -> [Action] {
        var actions: [Action] = []
        let edtl = task.write?.expectedLength ?? task.expectedDataInLength
        let wanted = outcome.transferLength
        let overflow = wanted > edtl
        let underflow = wanted < edtl
        let residual = UInt32(clamping: overflow ? wanted - edtl : edtl - wanted)

        var data = outcome.dataIn
        if data.readableBytes > task.expectedDataInLength {
            data = data.getSlice(at: data.readerIndex, length: task.expectedDataInLength) ?? ByteBuffer()
        }
        let collapse = outcome.status == SCSIStatus.good.rawValue && outcome.sense.isEmpty && data.readableBytes > 0
        let segmentLimit = max(512, parameters.initiatorMaxRecvDataSegmentLength)
        let burst = max(segmentLimit, parameters.maxBurstLength)
        var dataSN: UInt32 = 0
        var offset = 0
        let total = data.readableBytes
        // Bounded: each turn sends at least one byte of `total`.
        while offset < total {
            let sequenceEnd = min(total, (offset / burst + 1) * burst)
            let length = min(segmentLimit, sequenceEnd - offset)
            let slice = data.getSlice(at: data.readerIndex + offset, length: length)!
            let last = offset + length == total
            let status = last && collapse
            actions.append(.send(.dataIn(DataIn(
                final: offset + length == sequenceEnd,
                residualOverflow: status && overflow,
                residualUnderflow: status && underflow,
                statusPresent: status,
                status: status ? outcome.status : 0,
                lun: task.lun,
                initiatorTaskTag: tag,
                statSN: status ? nextStatSN() : 0,
                expCmdSN: window.expCmdSN,
                maxCmdSN: maxCmdSN(),
                dataSN: dataSN,
                bufferOffset: UInt32(offset),
                residualCount: status ? residual : 0,
                data: slice
            ))))
            dataSN &+= 1
            offset += length
        }
        guard !collapse else { return actions }

        var senseSegment = ByteBuffer()
        if !outcome.sense.isEmpty {
            senseSegment.writeInteger(UInt16(outcome.sense.count))
            senseSegment.writeBytes(outcome.sense)
        }
        actions.append(.send(.scsiResponse(SCSIResponse(
            residualOverflow: overflow,
            residualUnderflow: underflow,
            status: outcome.status,
            initiatorTaskTag: tag,
            statSN: nextStatSN(),
            expCmdSN: window.expCmdSN,
            maxCmdSN: maxCmdSN(),
            expDataSN: dataSN,
            residualCount: residual,
            data: senseSegment
        ))))
        return actions
    }

    /// CHECK CONDITION for an EDTL we refuse to buffer: ILLEGAL REQUEST, INVALID FIELD IN CDB.
    static func tooLong(_ edtl: Int, limit: Int) -> TargetCommandOutcome {
        let sense = ExportSense.fixed(.illegalRequest, .invalidFieldInCDB)
        return TargetCommandOutcome(status: SCSIStatus.checkCondition.rawValue, sense: sense, transferLength: edtl)
    }

    func hex(_ value: UInt32) -> String { String(value, radix: 16) }
}
