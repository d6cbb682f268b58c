// Task management, text (SendTargets) and logout on a target connection
// (RFC 7143 §11.5-§11.6, §11.10-§11.11, §11.14-§11.15).

import ISCSI
import NIOCore

extension TargetConnectionStateMachine {
    // MARK: Task management

    mutating func taskManagement(_ request: TaskManagementRequest, into actions: inout [Action]) {
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
        if var task = tasks[request.referencedTaskTag] {
            guard task.lun == request.lun else { return .taskDoesNotExist }
            switch task.phase {
            case .receiving:
                _ = removeTask(request.referencedTaskTag)
            case .executing, .aborted:
                task.phase = .aborted
                tasks[request.referencedTaskTag] = task
            }
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
        for (tag, var task) in tasks where matches(task.lun) {
            switch task.phase {
            case .receiving:
                _ = removeTask(tag)
            case .executing, .aborted:
                task.phase = .aborted
                tasks[tag] = task
            }
        }
    }

    // MARK: Text

    mutating func text(_ request: TextRequest, pdu: ISCSIPDU, into actions: inout [Action]) {
        if request.targetTransferTag != reservedTag {
            // The initiator asks for the next piece of a long answer.
            guard var continuation = textContinuation, continuation.targetTransferTag == request.targetTransferTag,
                continuation.initiatorTaskTag == request.initiatorTaskTag
            else {
                actions.append(reject(.invalidPDUField, pdu))
                return
            }
            let piece = continuation.pieces.removeFirst()
            let more = !continuation.pieces.isEmpty
            textContinuation = more ? continuation : nil
            actions.append(textResponse(request, piece, final: !more, continue: more, tag: more ? continuation.targetTransferTag : reservedTag))
            return
        }
        textContinuation = nil
        let pairs: [TextKeyValue]
        do {
            guard let complete = try textAccumulator.append(request.data, continues: request.continue) else {
                // More of the initiator's text to come: acknowledge with an empty response (§11.11.2).
                actions.append(textResponse(request, ByteBuffer(), final: false, continue: false, tag: takeTargetTransferTag()))
                return
            }
            pairs = complete
        } catch {
            actions.append(reject(.protocolError, pdu))
            return
        }
        var answer: [TextKeyValue] = []
        for pair in pairs {
            if pair.key == "SendTargets" {
                if configuration.sessionType == .normal, pair.value == "All" {
                    // RFC 7143 §12.1.1: in a normal session only the session's own target is reported.
                    answer += configuration.sendTargets("")
                } else {
                    answer += configuration.sendTargets(pair.value)
                }
            } else if TextValue.special(pair.value) == nil {
                // Renegotiation in full feature phase is not offered: every key keeps its login value.
                let known = ["MaxRecvDataSegmentLength", "HeaderDigest", "DataDigest", "MaxBurstLength",
                    "FirstBurstLength", "DefaultTime2Wait", "DefaultTime2Retain"]
                answer.append(TextKeyValue(pair.key, known.contains(pair.key) ? TextValue.Special.reject.rawValue : TextValue.Special.notUnderstood.rawValue))
            }
        }
        let pieces = TextSegmentSplitter.split(ByteBuffer(textKeyValues: answer), maximumSegmentLength: max(512, parameters.initiatorMaxRecvDataSegmentLength))
        if pieces.count > 1 {
            let tag = takeTargetTransferTag()
            textContinuation = TextContinuation(initiatorTaskTag: request.initiatorTaskTag, targetTransferTag: tag, pieces: Array(pieces.dropFirst()))
            actions.append(textResponse(request, pieces[0], final: false, continue: true, tag: tag))
        } else {
            actions.append(textResponse(request, pieces.first ?? ByteBuffer(), final: true, continue: false, tag: reservedTag))
        }
    }

    private mutating func textResponse(_ request: TextRequest, _ data: ByteBuffer, final: Bool, continue: Bool, tag: UInt32) -> Action {
        .send(.textResponse(TextResponse(
            final: final, continue: `continue`, lun: request.lun, initiatorTaskTag: request.initiatorTaskTag,
            targetTransferTag: tag, statSN: nextStatSN(), expCmdSN: window.expCmdSN, maxCmdSN: maxCmdSN(), data: data
        )))
    }

    // MARK: Logout

    mutating func logout(_ request: LogoutRequest, into actions: inout [Action]) {
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
}
