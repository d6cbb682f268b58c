// The full feature phase of one target connection (RFC 7143 §4, §11), without I/O:
// the CmdSN window, tasks and their Data-Out, Data-In and status, NOP pings, text,
// task management and logout. Its channel handler performs the actions it returns.

import ISCSI
import NIOCore
import SCSI

/// One logged-in connection (the whole session: MaxConnections is 1) as seen by the target.
///
/// Every event returns the ordered actions to perform; nothing else of it can be read.
/// Scopes follow docs/INITIATOR.md ("Errors and their scope"): a bad field in one PDU
/// gets a Reject and the connection goes on; a broken data sequence (DataSN, offsets,
/// an unknown TTT) ends its task; a silent initiator ends this connection only.
/// The parts with state of their own are sub-machines: the task table, the keepalive
/// and the text exchange.
struct TargetConnectionStateMachine {
    private enum State {
        case fullFeature
        /// A Logout Response went out; nothing else is accepted.
        case loggedOut
        case closed
    }

    private let configuration: Configuration
    private var state: State = .fullFeature
    private var window: TargetCommandWindow<ISCSIPDU>
    private var statSN: UInt32
    private var tasks: TargetTaskTable
    private var tags = TargetTransferTags()
    private var keepalive: TargetKeepalive
    private var text: TargetTextExchange

    init(configuration: Configuration, expCmdSN: UInt32, statSN: UInt32, now: NIODeadline) {
        self.configuration = configuration
        self.window = TargetCommandWindow(expCmdSN: expCmdSN, size: configuration.commandWindow)
        self.statSN = statSN
        self.tasks = TargetTaskTable(connectionWriteBudget: configuration.connectionWriteBudget, exportWriteBudget: configuration.exportWriteBudget)
        self.keepalive = TargetKeepalive(
            pingInterval: configuration.pingInterval, pingTimeout: configuration.pingTimeout,
            idleTimeout: configuration.idleTimeout, sessionType: configuration.sessionType, now: now
        )
        self.text = TargetTextExchange(sessionType: configuration.sessionType, sendTargets: configuration.sendTargets)
    }

    private var parameters: TargetSessionParameters { configuration.parameters }

    // MARK: Events

    /// One PDU from the initiator.
    mutating func received(_ pdu: ISCSIPDU, now: NIODeadline) -> [Action] {
        guard case .fullFeature = state else { return [] }
        keepalive.heard(now: now)
        var actions: [Action] = []
        switch pdu {
        case .dataOut(let data):
            // Data-Out carries no CmdSN: it belongs to a task already delivered.
            dataOut(data, now: now, into: &actions)
        case .snackRequest:
            // ErrorRecoveryLevel is 0: there is nothing to retransmit from.
            actions.append(reject(.snackReject, pdu))
        case .loginRequest:
            actions.append(reject(.protocolError, pdu))
        case .scsiCommand(let command):
            ordered(pdu, cmdSN: command.cmdSN, immediate: command.immediate, now: now, into: &actions)
        case .taskManagementRequest(let request):
            ordered(pdu, cmdSN: request.cmdSN, immediate: request.immediate, now: now, into: &actions)
        case .textRequest(let request):
            ordered(pdu, cmdSN: request.cmdSN, immediate: request.immediate, now: now, into: &actions)
        case .logoutRequest(let request):
            ordered(pdu, cmdSN: request.cmdSN, immediate: request.immediate, now: now, into: &actions)
        case .nopOut(let nop):
            if nop.initiatorTaskTag == reservedTag {
                // An answer to our ping carries no CmdSN of its own (RFC 7143 §11.18.1).
                answeredPing(nop, into: &actions)
            } else {
                ordered(pdu, cmdSN: nop.cmdSN, immediate: nop.immediate, now: now, into: &actions)
            }
        case .nopIn, .scsiResponse, .taskManagementResponse, .loginResponse, .textResponse, .dataIn,
            .logoutResponse, .readyToTransfer, .asyncMessage, .reject:
            // The decoder accepts only initiator opcodes; a target PDU here is our own bug.
            preconditionFailure("a target PDU (\(pdu.opcode)) reached the target's state machine")
        }
        return actions
    }

    /// A PDU the decoder could not turn into a value, but whose framing was sound:
    /// `header` is its 48-byte BHS (RFC 7143 §11.17: the Reject carries it back).
    mutating func receivedUndecodable(header: ByteBuffer, reason: RejectReason, now: NIODeadline) -> [Action] {
        guard case .fullFeature = state else { return [] }
        keepalive.heard(now: now)
        return [.send(.reject(Reject(reason: reason.rawValue, statSN: nextStatSN(), expCmdSN: window.expCmdSN, maxCmdSN: maxCmdSN(), data: header)))]
    }

    /// The logical unit finished the task `initiatorTaskTag`.
    mutating func completed(_ initiatorTaskTag: UInt32, outcome: TargetCommandOutcome) -> [Action] {
        guard let task = tasks.remove(initiatorTaskTag) else { return [] }
        guard case .fullFeature = state, task.phase == .executing else { return [] }
        return respond(initiatorTaskTag, task, outcome)
    }

    /// The handler's periodic tick: close an idle discovery session, fail writes whose
    /// data stopped coming, ping a silent initiator, drop one that stopped answering.
    mutating func timerFired(now: NIODeadline) -> [Action] {
        guard case .fullFeature = state else { return [] }
        if let reason = keepalive.idleExpiry(now: now, hasTasks: !tasks.isEmpty) {
            state = .closed
            return [.close(reason: reason)]
        }
        var actions = expireStalledWrites(now: now)
        switch keepalive.due(now: now) {
        case .nothing:
            break
        case .drop(let reason):
            state = .closed
            actions.append(.close(reason: reason))
        case .ping:
            let tag = tags.take()
            keepalive.pinged(targetTransferTag: tag, now: now)
            // A ping's StatSN is the next one, not consumed (RFC 7143 §11.19.4).
            actions.append(.send(.nopIn(NOPIn(lun: 0, initiatorTaskTag: reservedTag, targetTransferTag: tag, statSN: statSN, expCmdSN: window.expCmdSN, maxCmdSN: maxCmdSN()))))
        }
        return actions
    }

    /// The connection is gone: what is still running will find no task, and the write
    /// budget its tasks held goes back to the export.
    mutating func connectionClosed() {
        state = .closed
        tasks.removeAll()
    }

    // MARK: Ordering

    private mutating func ordered(_ pdu: ISCSIPDU, cmdSN: UInt32, immediate: Bool, now: NIODeadline, into actions: inout [Action]) {
        if case .nopOut = pdu {} else { keepalive.requested(now: now) }
        switch window.admit(cmdSN: cmdSN, immediate: immediate, command: pdu) {
        case .drop:
            return
        case .hold:
            return
        case .deliver:
            deliver(pdu, now: now, into: &actions)
            // Bounded by the window's size: each held command is delivered once.
            while case .fullFeature = state, let next = window.nextReady() {
                deliver(next, now: now, into: &actions)
            }
        }
    }

    private mutating func deliver(_ pdu: ISCSIPDU, now: NIODeadline, into actions: inout [Action]) {
        switch pdu {
        case .scsiCommand(let command):
            guard configuration.sessionType == .normal else {
                actions.append(reject(.protocolError, pdu))
                return
            }
            scsiCommand(command, pdu: pdu, now: now, into: &actions)
        case .taskManagementRequest(let request):
            guard configuration.sessionType == .normal else {
                actions.append(reject(.protocolError, pdu))
                return
            }
            taskManagement(request, into: &actions)
        case .textRequest(let request):
            textRequest(request, pdu: pdu, into: &actions)
        case .logoutRequest(let request):
            logout(request, into: &actions)
        case .nopOut(let nop):
            // A ping from the initiator: echo its data (RFC 7143 §11.19).
            actions.append(.send(.nopIn(NOPIn(lun: nop.lun, initiatorTaskTag: nop.initiatorTaskTag, targetTransferTag: reservedTag, statSN: nextStatSN(), expCmdSN: window.expCmdSN, maxCmdSN: maxCmdSN(), data: nop.data))))
        case .dataOut, .snackRequest, .loginRequest, .nopIn, .scsiResponse, .taskManagementResponse, .loginResponse,
            .textResponse, .dataIn, .logoutResponse, .readyToTransfer, .asyncMessage, .reject:
            preconditionFailure("\(pdu.opcode) never enters the CmdSN window")
        }
    }

    private mutating func answeredPing(_ nop: NOPOut, into actions: inout [Action]) {
        // ITT and TTT both reserved: a NOP-Out that wants nothing. RFC 7143 §11.18.1
        // lets an initiator send it only as an immediate "CmdSN update"; nothing to do.
        guard nop.targetTransferTag != reservedTag else { return }
        if !keepalive.answered(targetTransferTag: nop.targetTransferTag) {
            actions.append(reject(.invalidPDUField, .nopOut(nop)))
        }
    }

    // MARK: SCSI commands

    /// Admission, immediate and unsolicited data, then R2Ts within MaxBurstLength and
    /// MaxOutstandingR2T (RFC 7143 §11.3, §11.8).
    private mutating func scsiCommand(_ command: SCSICommand, pdu: ISCSIPDU, now: NIODeadline, into actions: inout [Action]) {
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
            guard tasks.immediateCount < configuration.maximumImmediateTasks else {
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
            // CHECK CONDITION, ILLEGAL REQUEST, INVALID FIELD IN CDB, answered at once: the
            // task never enters the table.
            actions += respond(tag, task, Self.checkCondition(.illegalRequest, .invalidFieldInCDB, transferLength: edtl))
            return
        }
        if command.write && edtl > 0 {
            let charge = ExportWriteBudget.charge(forExpectedLength: edtl)
            if let refusal = tasks.chargeWrite(charge) {
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
        tasks.insert(task, tag: tag)
        advance(tag, into: &actions)
    }

    /// Moves a task on: R2Ts while data is missing, execution once all of it is in.
    private mutating func advance(_ tag: UInt32, into actions: inout [Action]) {
        guard var task = tasks[tag], task.phase == .receiving else { return }
        if var write = task.write {
            if write.isComplete {
                write.outstanding.removeAll()
            } else {
                issueR2Ts(tag, task.lun, &write, into: &actions)
                task.write = write
                tasks.update(task, tag: tag)
                return
            }
            task.write = write
        }
        task.phase = .executing
        var dataOut = task.write?.data ?? ByteBuffer()
        task.write?.data = ByteBuffer()
        tasks.update(task, tag: tag)
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
                targetTransferTag: tags.take(), offset: write.nextR2TOffset, length: length,
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

    private mutating func dataOut(_ data: DataOut, now: NIODeadline, into actions: inout [Action]) {
        let tag = data.initiatorTaskTag
        // Data for a task we no longer hold (aborted, or its command was dropped as outside
        // the window: RFC 7143 §4.2.3.3 lets the target discard it), or surplus data for a
        // task already running: nothing is waiting for it.
        guard var write = tasks.takeWrite(tag) else { return }
        let failure = write.accept(data)
        write.lastProgress = now
        tasks.returnWrite(write, tag: tag)
        if let failure {
            // A broken data sequence ends its task, not the connection: ErrorRecoveryLevel 0
            // offers no way to ask for the data again; later Data-Out for it is discarded.
            return failWrite(tag, reason: failure, sense: .dataPhaseError, into: &actions)
        }
        advance(tag, into: &actions)
    }

    /// Fails every write whose Data-Out has not moved for the data-phase timeout: CHECK
    /// CONDITION, ABORTED COMMAND, INITIATOR RESPONSE TIMEOUT, and its buffer is freed.
    private mutating func expireStalledWrites(now: NIODeadline) -> [Action] {
        guard let timeout = configuration.dataPhaseTimeout else { return [] }
        var actions: [Action] = []
        for tag in tasks.stalledWrites(now: now, timeout: timeout) {
            configuration.exportWriteBudget?.countDataTimeout()
            let seconds = Double(timeout.nanoseconds) / 1e9
            failWrite(tag, reason: "Data-Out for task 0x\(String(tag, radix: 16)) stopped arriving for \(seconds) s", sense: .initiatorResponseTimeout, into: &actions)
        }
        return actions
    }

    /// Ends a write still receiving with CHECK CONDITION, ABORTED COMMAND and `code`.
    private mutating func failWrite(_ tag: UInt32, reason: String, sense code: AdditionalSenseCode, into actions: inout [Action]) {
        guard let task = tasks.remove(tag) else { return }
        actions += respond(tag, task, Self.checkCondition(.abortedCommand, code, transferLength: task.write?.expectedLength ?? 0))
        actions.append(.writeFailed(reason: reason))
    }

    private mutating func respond(_ tag: UInt32, _ task: TargetTask, _ outcome: TargetCommandOutcome) -> [Action] {
        let pdus = TargetResponse.pdus(tag, task, outcome, parameters: parameters, statSN: nextStatSN(), expCmdSN: window.expCmdSN, maxCmdSN: maxCmdSN())
        return pdus.map { .send($0) }
    }

    /// CHECK CONDITION with fixed-format sense, for the answers the transport gives itself.
    private static func checkCondition(_ key: SenseKey, _ code: AdditionalSenseCode, transferLength: Int) -> TargetCommandOutcome {
        let sense = SenseData(senseKey: key, additionalSenseCode: code).encoded(as: .fixed)
        return TargetCommandOutcome(status: SCSIStatus.checkCondition.rawValue, sense: sense, transferLength: transferLength)
    }

    // MARK: Task management

    private mutating func taskManagement(_ request: TaskManagementRequest, into actions: inout [Action]) {
        let response: TaskManagementResponseCode
        switch request.function {
        case .abortTask:
            response = abortTask(request)
        case .abortTaskSet, .clearTaskSet, .logicalUnitReset:
            guard configuration.luns.contains(request.lun) else {
                response = .lunDoesNotExist
                break
            }
            abortTasks(before: request.cmdSN) { $0 == request.lun }
            actions.append(.taskManagement(request.function, lun: request.lun))
            response = .functionComplete
        case .targetWarmReset, .targetColdReset:
            abortTasks(before: request.cmdSN) { _ in true }
            actions.append(.taskManagement(request.function, lun: request.lun))
            response = .functionComplete
        case .clearACA:
            // NACA is refused in every CDB, so no ACA condition can exist to clear.
            response = .functionNotSupported
        case .taskReassign:
            // Reassignment needs ErrorRecoveryLevel 2; the session runs at 0.
            response = .reassignmentNotSupported
        }
        actions.append(.send(.taskManagementResponse(TaskManagementResponse(
            response: response.rawValue, initiatorTaskTag: request.initiatorTaskTag,
            statSN: nextStatSN(), expCmdSN: window.expCmdSN, maxCmdSN: maxCmdSN()
        ))))
        if request.function == .targetColdReset {
            // A cold reset ends the connections of the target (SAM-5 §7.11; RFC 7143 §11.5.1).
            state = .closed
            actions.append(.close(reason: "TARGET COLD RESET"))
        }
    }

    /// ABORT TASK (RFC 7143 §11.5.1): a task still here ends without a response; one
    /// whose command has not had its CmdSN turn is dropped; one already answered does not exist.
    private mutating func abortTask(_ request: TaskManagementRequest) -> TaskManagementResponseCode {
        if let task = tasks[request.referencedTaskTag] {
            guard task.lun == request.lun else { return .taskDoesNotExist }
            tasks.abort(request.referencedTaskTag)
            return .functionComplete
        }
        if window.abortHeld(cmdSN: request.refCmdSN, where: { $0.initiatorTaskTag == request.referencedTaskTag }) != nil {
            return .functionComplete
        }
        // A RefCmdSN the window has not reached: the command never arrived, so it is
        // aborted by never being executed. One sent before this request (RFC 7143 §11.5.1)
        // counts as received: filling the gap passes it, and it is dropped if it comes.
        let sentBefore = SerialNumber(request.refCmdSN) < SerialNumber(request.cmdSN)
        if sentBefore && window.abortUnreceived(cmdSN: request.refCmdSN) {
            return .functionComplete
        }
        // Below ExpCmdSN it was answered; past MaxCmdSN it cannot have been sent (§11.5.1 c).
        return window.isAhead(cmdSN: request.refCmdSN) ? .functionComplete : .taskDoesNotExist
    }

    /// Ends every task of this connection on a LUN that `matches` without a response:
    /// those under way, and those held for a CmdSN gap that were sent before `cmdSN`.
    private mutating func abortTasks(before cmdSN: UInt32, onLUN matches: (UInt64) -> Bool) {
        _ = window.abortHeld(before: cmdSN) { pdu in
            if case .scsiCommand(let command) = pdu { return matches(command.lun) }
            return false
        }
        tasks.abortAll(onLUN: matches)
    }

    // MARK: Text and logout

    private mutating func textRequest(_ request: TextRequest, pdu: ISCSIPDU, into actions: inout [Action]) {
        let segmentLimit = max(512, parameters.initiatorMaxRecvDataSegmentLength)
        switch text.received(request, segmentLimit: segmentLimit, tags: &tags) {
        case .reject(let reason):
            actions.append(reject(reason, pdu))
        case .reply(let data, let final, let more, let targetTransferTag):
            actions.append(.send(.textResponse(TextResponse(
                final: final, continue: more, lun: request.lun, initiatorTaskTag: request.initiatorTaskTag,
                targetTransferTag: targetTransferTag, statSN: nextStatSN(), expCmdSN: window.expCmdSN, maxCmdSN: maxCmdSN(), data: data
            ))))
        }
    }

    private mutating func logout(_ request: LogoutRequest, into actions: inout [Action]) {
        let response: UInt8
        switch request.reason {
        case .closeSession:
            response = 0
        case .closeConnection:
            // One connection per session: closing it is closing the session, if it is this one.
            response = request.connectionID == configuration.connectionID ? 0 : 1
        case .removeConnectionForRecovery:
            // Connection recovery needs ErrorRecoveryLevel 2 (§11.15.1 response 2).
            response = 2
        }
        actions.append(.send(.logoutResponse(LogoutResponse(
            response: response, initiatorTaskTag: request.initiatorTaskTag, statSN: nextStatSN(),
            expCmdSN: window.expCmdSN, maxCmdSN: maxCmdSN(), time2Wait: 0, time2Retain: 0
        ))))
        guard response == 0 else { return }
        abortTasks(before: request.cmdSN) { _ in true }
        state = .loggedOut
        actions.append(.close(reason: "logout"))
    }

    // MARK: Sequence numbers

    /// The StatSN for a PDU that carries status, advancing it.
    private mutating func nextStatSN() -> UInt32 {
        defer { statSN &+= 1 }
        return statSN
    }

    private mutating func maxCmdSN() -> UInt32 {
        window.maxCmdSN(active: tasks.count - tasks.immediateCount)
    }

    /// A Reject carrying the offending PDU's header (RFC 7143 §11.17.1).
    private mutating func reject(_ reason: RejectReason, _ pdu: ISCSIPDU) -> Action {
        .send(.reject(Reject(reason: reason.rawValue, statSN: nextStatSN(), expCmdSN: window.expCmdSN, maxCmdSN: maxCmdSN(), data: pdu.basicHeaderSegmentBytes)))
    }
}
