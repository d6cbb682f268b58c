// The full feature phase of one target connection (RFC 7143 §4, §11), without I/O:
// the CmdSN window, tasks and their Data-Out, Data-In and status, NOP pings, text,
// task management and logout. Its channel handler performs the actions it returns.

import ISCSI
import NIOCore

/// One logged-in connection (the whole session: MaxConnections is 1) as seen by the target.
///
/// Every event returns the ordered actions to perform. Scopes follow docs/INITIATOR.md ("Errors and their scope"): a
/// bad field in one PDU gets a Reject and the connection goes on; a broken data
/// sequence (DataSN, offsets, an unknown TTT) or a silent initiator ends this
/// connection only.
struct TargetConnectionStateMachine {
    struct Configuration {
        var parameters: TargetSessionParameters
        var sessionType: SessionType
        var connectionID: UInt16 = 0
        var commandWindow: UInt32 = 64
        /// Largest EDTL accepted; more would make us buffer too much for one command.
        var maximumTransferLength: Int = 64 << 20
        /// Immediate commands allowed in flight besides the window.
        var maximumImmediateTasks: Int = 16
        /// LUN fields (8 bytes, as on the wire) that exist, for task management.
        var luns: Set<UInt64>
        /// The SendTargets answer for a query value ("All", an IQN, or empty).
        var sendTargets: @Sendable (String) -> [TextKeyValue]
        /// Send a NOP-In after this much silence; nil turns pings off.
        var pingInterval: TimeAmount? = .seconds(15)
        /// Drop the connection when a ping is not answered within this.
        var pingTimeout: TimeAmount = .seconds(10)
        /// Write-budget bytes this connection may hold at once (TASK SET FULL past it).
        var connectionWriteBudget: Int = 128 << 20
        /// The export's budget, shared by its connections (BUSY when spent); nil: none.
        var exportWriteBudget: ExportWriteBudget?
        /// A write whose Data-Out stops arriving for this long is failed; nil: never.
        var dataPhaseTimeout: TimeAmount? = .seconds(20)
        /// Close the connection when the initiator sends no request (a NOP-Out ping or
        /// its answer aside) for this long; nil: never. Discovery sessions get one.
        var idleTimeout: TimeAmount? = nil
    }

    enum State {
        case fullFeature
        /// A Logout Response went out; nothing else is accepted.
        case loggedOut
        case closed
    }

    /// A NOP-In we sent and wait to see answered.
    struct Ping {
        var targetTransferTag: UInt32
        var sent: NIODeadline
    }

    /// A long Text Response being sent in pieces (RFC 7143 §11.11: C bit and TTT).
    struct TextContinuation {
        var initiatorTaskTag: UInt32
        var targetTransferTag: UInt32
        var pieces: [ByteBuffer]
    }

    let configuration: Configuration
    var state: State = .fullFeature
    var window: TargetCommandWindow<ISCSIPDU>
    var statSN: UInt32
    var tasks: [UInt32: TargetTask] = [:]
    var immediateTasks = 0
    /// Write-budget bytes held by this connection's tasks.
    var chargedWriteBytes = 0
    var nextTargetTransferTag: UInt32 = 1
    var ping: Ping?
    var lastHeard: NIODeadline
    /// When the initiator last asked for something other than a ping.
    var lastRequest: NIODeadline
    var textContinuation: TextContinuation?
    var textAccumulator = TextSegmentAccumulator(limits: .exchange)
    /// Why the last task ended for bad Data-Out, for the log and tests.
    var lastDataError: String?

    init(configuration: Configuration, expCmdSN: UInt32, statSN: UInt32, now: NIODeadline) {
        self.configuration = configuration
        self.window = TargetCommandWindow(expCmdSN: expCmdSN, size: configuration.commandWindow)
        self.statSN = statSN
        self.lastHeard = now
        self.lastRequest = now
    }

    var parameters: TargetSessionParameters { configuration.parameters }

    // MARK: Events

    /// One PDU from the initiator.
    mutating func received(_ pdu: ISCSIPDU, now: NIODeadline) -> [Action] {
        guard case .fullFeature = state else { return [] }
        lastHeard = now
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
        lastHeard = now
        return [.send(.reject(Reject(reason: reason.rawValue, statSN: nextStatSN(), expCmdSN: window.expCmdSN, maxCmdSN: maxCmdSN(), data: header)))]
    }

    /// The logical unit finished the task `initiatorTaskTag`.
    mutating func completed(_ initiatorTaskTag: UInt32, outcome: TargetCommandOutcome) -> [Action] {
        guard let task = removeTask(initiatorTaskTag) else { return [] }
        guard case .fullFeature = state, task.phase == .executing else { return [] }
        return respond(initiatorTaskTag, task, outcome)
    }

    /// The handler's periodic tick: fail writes whose data stopped coming, ping an idle
    /// initiator, drop one that stopped answering.
    mutating func timerFired(now: NIODeadline) -> [Action] {
        guard case .fullFeature = state else { return [] }
        if let idle = configuration.idleTimeout, now - lastRequest >= idle, tasks.isEmpty {
            state = .closed
            return [.close(reason: "the \(configuration.sessionType) session sent no request for \(idle.nanoseconds / 1_000_000_000) s")]
        }
        var actions = expireStalledWrites(now: now)
        guard let interval = configuration.pingInterval else { return actions }
        if let ping {
            if now - ping.sent >= configuration.pingTimeout {
                state = .closed
                return actions + [.close(reason: "the initiator did not answer a NOP-In within \(configuration.pingTimeout.nanoseconds / 1_000_000) ms")]
            }
            return actions
        }
        guard now - lastHeard >= interval else { return actions }
        let tag = takeTargetTransferTag()
        ping = Ping(targetTransferTag: tag, sent: now)
        // A ping's StatSN is the next one, not consumed (RFC 7143 §11.19.4).
        actions.append(.send(.nopIn(NOPIn(lun: 0, initiatorTaskTag: reservedTag, targetTransferTag: tag, statSN: statSN, expCmdSN: window.expCmdSN, maxCmdSN: maxCmdSN()))))
        return actions
    }

    /// The connection is gone: what is still running will find no task, and the write
    /// budget its tasks held goes back to the export.
    mutating func connectionClosed() {
        state = .closed
        tasks.removeAll()
        immediateTasks = 0
        configuration.exportWriteBudget?.release(chargedWriteBytes)
        chargedWriteBytes = 0
    }

    /// Takes a task out of the table, settling its immediate count and write budget.
    mutating func removeTask(_ tag: UInt32) -> TargetTask? {
        guard let task = tasks.removeValue(forKey: tag) else { return nil }
        if task.immediate { immediateTasks -= 1 }
        if task.bufferCharge > 0 {
            chargedWriteBytes -= task.bufferCharge
            configuration.exportWriteBudget?.release(task.bufferCharge)
        }
        return task
    }

    /// Tasks of this connection, for the handler to know what it still waits for.
    var activeTaskCount: Int { tasks.count }

    // MARK: Ordering

    private mutating func ordered(_ pdu: ISCSIPDU, cmdSN: UInt32, immediate: Bool, now: NIODeadline, into actions: inout [Action]) {
        if case .nopOut = pdu {} else { lastRequest = now }
        switch window.admit(cmdSN: cmdSN, immediate: immediate, command: pdu) {
        case .drop:
            return
        case .hold:
            return
        case .deliver:
            deliver(pdu, immediate: immediate, now: now, into: &actions)
            // Bounded by the window's size: each held command is delivered once.
            while case .fullFeature = state, let next = window.nextReady() {
                deliver(next, immediate: false, now: now, into: &actions)
            }
        }
    }

    private mutating func deliver(_ pdu: ISCSIPDU, immediate: Bool, now: NIODeadline, into actions: inout [Action]) {
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
            text(request, pdu: pdu, into: &actions)
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
        guard nop.targetTransferTag != reservedTag else {
            // ITT and TTT both reserved: a NOP-Out that wants nothing. RFC 7143 §11.18.1
            // lets an initiator send it only as an immediate "CmdSN update"; nothing to do.
            return
        }
        guard let ping, ping.targetTransferTag == nop.targetTransferTag else {
            actions.append(reject(.invalidPDUField, .nopOut(nop)))
            return
        }
        self.ping = nil
    }

    // MARK: Sequence numbers

    /// The StatSN for a PDU that carries status, advancing it.
    mutating func nextStatSN() -> UInt32 {
        defer { statSN &+= 1 }
        return statSN
    }

    mutating func maxCmdSN() -> UInt32 {
        window.maxCmdSN(active: tasks.count - immediateTasks)
    }

    mutating func takeTargetTransferTag() -> UInt32 {
        defer {
            nextTargetTransferTag &+= 1
            if nextTargetTransferTag == reservedTag { nextTargetTransferTag = 1 }
        }
        return nextTargetTransferTag
    }

    /// A Reject carrying the offending PDU's header (RFC 7143 §11.17.1).
    mutating func reject(_ reason: RejectReason, _ pdu: ISCSIPDU) -> Action {
        .send(.reject(Reject(reason: reason.rawValue, statSN: nextStatSN(), expCmdSN: window.expCmdSN, maxCmdSN: maxCmdSN(), data: pdu.basicHeaderSegmentBytes)))
    }
}
