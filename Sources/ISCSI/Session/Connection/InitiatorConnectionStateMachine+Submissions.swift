// How the initiator sends what callers submit: commands through the CmdSN window, task management,
// text, logout, and the cancel and timeout escalation of commands in flight (RFC 7143 §3.2.2.1, §11.5).

import NIOCore

extension InitiatorConnectionStateMachine.FullFeaturePhase {
    /// Submitted before the login ended; it goes out in order once the window allows.
    mutating func wait(_ submission: SubmissionQueue.Submission) {
        waiting.append(submission)
    }

    mutating func start(_ submission: SubmissionQueue.Submission, now: NIODeadline) -> Action {
        switch submission.work {
        case .command(let request, let promise):
            // Commands keep their order: none overtakes one already waiting for the window.
            guard waiting.isEmpty, window.isOpen else {
                waiting.append(submission)
                return .none
            }
            return sendCommand(request, promise: promise, id: submission.id)
        case .taskManagement(let function, let lun, let submissionID, let promise):
            return sendTaskManagement(function, lun: lun, referencing: submissionID, promise: promise)
        case .text(let keys, let promise):
            return sendText(keys, promise: promise)
        case .logout(let promise):
            return sendLogout(promise: promise)
        case .cancel(let submissionID):
            return cancel(submissionID)
        case .timeOut(let submissionID, let after):
            return timeOut(submissionID, after: after, now: now)
        }
    }

    mutating func sendNextWaiting(now: NIODeadline) -> Action? {
        guard window.isOpen, let next = waiting.popFirst() else { return nil }
        guard case .command(let request, let promise) = next.work else {
            // Only work queued during login is not a command; it needs no window.
            return start(next, now: now)
        }
        return sendCommand(request, promise: promise, id: next.id)
    }

    private mutating func sendCommand(_ request: SCSITaskRequest, promise: EventLoopPromise<SCSITaskResult>, id: UInt64) -> Action {
        let dataOut = request.dataOut ?? ByteBuffer()
        let writeLength = dataOut.readableBytes
        let plan = writeLength > 0 ? WriteTransfer(totalLength: writeLength, limits: limits) : nil
        let task = CommandTask(
            lun: request.lun,
            cmdSN: window.cmdSN.rawValue,
            write: plan,
            dataOut: dataOut,
            read: request.expectedDataInLength > 0 ? ReadAssembly(expectedLength: request.expectedDataInLength) : nil,
            expectedDataInLength: request.expectedDataInLength,
            name: request.name,
            submissionID: id,
            promise: promise
        )
        guard let tag = tasks.insert(.command(task)) else {
            return .fail(.command(promise), ISCSIError(.outOfResources, scope: .task, "more than \(TaskTable<Task>.capacityLimit) commands are in flight"))
        }
        let cmdSN = window.takeCmdSN()
        let immediate = plan.map { dataOut.getSlice(at: dataOut.readerIndex, length: $0.immediateLength)! } ?? ByteBuffer()
        let command = ISCSIPDU.scsiCommand(SCSICommand(
            immediate: false,
            final: plan?.commandIsFinal ?? true,
            read: request.expectedDataInLength > 0,
            write: writeLength > 0,
            attribute: request.attribute,
            lun: ISCSIPDU.encodeLUN(request.lun),
            initiatorTaskTag: tag,
            expectedDataTransferLength: UInt32(writeLength > 0 ? writeLength : request.expectedDataInLength),
            cmdSN: cmdSN,
            expStatSN: window.expStatSN.rawValue,
            cdb: request.cdb,
            bidirectionalReadDataLength: writeLength > 0 && request.expectedDataInLength > 0
                ? UInt32(request.expectedDataInLength) : nil,
            data: immediate
        ))
        return .writeCommand(command, unsolicited: plan.map { dataOutBurst($0.unsolicitedSegments, of: task, tag: tag) })
    }

    private mutating func sendTaskManagement(
        _ function: TaskManagementFunction,
        lun: UInt64,
        referencing submissionID: UInt64?,
        promise: EventLoopPromise<UInt8>?,
        abortDeadline: (deadline: NIODeadline, lost: ISCSIError, refusal: ISCSIError)? = nil
    ) -> Action {
        var referencedTag = reservedTag
        var refCmdSN: UInt32 = 0
        if let submissionID {
            guard let (tag, task) = commandTask(submissionID: submissionID) else {
                // Already finished: nothing to abort.
                return .completeTaskManagement(promise, response: TaskManagementResponseCode.taskDoesNotExist.rawValue, ended: [])
            }
            referencedTag = tag
            refCmdSN = task.cmdSN
        }
        let management = TaskManagementTask(
            function: function,
            lun: lun,
            referencedTag: referencedTag,
            promise: promise,
            refusal: abortDeadline?.refusal
        )
        guard let tag = tasks.insert(.taskManagement(management)) else {
            let error = ISCSIError(.outOfResources, scope: .task, "no task tag free for \(function)")
            guard let promise else { return .none }
            return .fail(.taskManagement(promise), error)
        }
        if let abortDeadline {
            abortDeadlines.append(AbortDeadline(tag: tag, deadline: abortDeadline.deadline, error: abortDeadline.lost))
        }
        return .write(.taskManagementRequest(TaskManagementRequest(
            immediate: true,
            function: function,
            lun: ISCSIPDU.encodeLUN(lun),
            initiatorTaskTag: tag,
            referencedTaskTag: referencedTag,
            cmdSN: window.immediateCmdSN,
            expStatSN: window.expStatSN.rawValue,
            refCmdSN: refCmdSN
        )))
    }

    private func commandTask(submissionID: UInt64) -> (UInt32, CommandTask)? {
        for tag in tasks.tags {
            if case .command(let task)? = tasks[tag], task.submissionID == submissionID { return (tag, task) }
        }
        return nil
    }

    /// A caller's Swift task was cancelled: drop its command if unsent, else ask the target to abort it.
    private mutating func cancel(_ submissionID: UInt64) -> Action {
        if let index = waiting.firstIndex(where: { $0.id == submissionID }) {
            return .failSubmission(waiting.remove(at: index), ISCSIError(.taskAborted, scope: .task, "the command was cancelled before it was sent"))
        }
        guard let (_, task) = commandTask(submissionID: submissionID) else { return .none }
        return sendTaskManagement(.abortTask, lun: task.lun, referencing: submissionID, promise: nil)
    }

    /// A command went unanswered for `after`: drop it if unsent, else send ABORT TASK. An abort
    /// that is refused, or itself unanswered for `after`, ends the connection (which a LUN recovers).
    private mutating func timeOut(_ submissionID: UInt64, after: TimeAmount, now: NIODeadline) -> Action {
        if let index = waiting.firstIndex(where: { $0.id == submissionID }) {
            return .failSubmission(waiting.remove(at: index), ISCSIError(
                .timeout,
                scope: .task,
                "the command was not sent within \(Self.seconds(after)): \(portal) kept the command window closed"
            ))
        }
        guard let (tag, task) = commandTask(submissionID: submissionID) else { return .none }
        tasks.modify(tag) { entry in
            if case .command(var command) = entry {
                command.timedOutAfter = after
                entry = .command(command)
            }
        }
        let lost = ISCSIError(
            .timeout,
            scope: .connection,
            "\(portal) answered neither \(task.name) on LUN \(task.lun) nor its ABORT TASK within \(Self.seconds(after)) each"
        )
        let refusal = ISCSIError(
            .timeout,
            scope: .connection,
            "\(portal) refused to abort \(task.name) on LUN \(task.lun), unanswered for \(Self.seconds(after))"
        )
        logger.warning("command timed out; aborting it", metadata: ["iscsi.command": "\(task.name)", "iscsi.timeout": "\(Self.seconds(after))"])
        return sendTaskManagement(
            .abortTask,
            lun: task.lun,
            referencing: submissionID,
            promise: nil,
            abortDeadline: (now + after, lost, refusal)
        )
    }

    private mutating func sendText(_ keys: [TextKeyValue], promise: EventLoopPromise<[TextKeyValue]>) -> Action {
        // The tag is only known after insertion, so insert a placeholder exchange first.
        let placeholder = TextExchangeStateMachine(
            configuration: .init(initiatorTaskTag: reservedTag, cmdSN: 0, expStatSN: 0, target: "\(portal)"),
            text: []
        )
        guard let tag = tasks.insert(.text(placeholder, promise)) else {
            return .fail(.text(promise), ISCSIError(.outOfResources, scope: .task, "no task tag free for a text request"))
        }
        var exchange = TextExchangeStateMachine(
            configuration: .init(
                initiatorTaskTag: tag,
                cmdSN: window.immediateCmdSN,
                expStatSN: window.expStatSN.rawValue,
                targetMaxRecvDataSegmentLength: limits.maxSendDataSegmentLength,
                target: "\(portal)"
            ),
            text: keys
        )
        let action = exchange.start()
        tasks.modify(tag) { $0 = .text(exchange, promise) }
        return textAction(action, tag: tag, promise: promise)
    }

    private mutating func sendLogout(promise: EventLoopPromise<Void>) -> Action {
        guard let tag = tasks.insert(.logout(promise)) else {
            return .fail(.logout(promise), ISCSIError(.outOfResources, scope: .task, "no task tag free for logout"))
        }
        return .write(.logoutRequest(LogoutRequest(
            immediate: true,
            reason: .closeSession,
            initiatorTaskTag: tag,
            connectionID: connectionID,
            cmdSN: window.immediateCmdSN,
            expStatSN: window.expStatSN.rawValue
        )))
    }
}
