// What the initiator does with each PDU a target sends in the full feature phase (RFC 7143 §11).

import NIOCore

extension InitiatorConnectionStateMachine.FullFeaturePhase {
    typealias Action = InitiatorConnectionStateMachine.Action

    mutating func received(_ pdu: ISCSIPDU, now: NIODeadline) -> Action {
        // Any PDU proves the target alive: under load a NOP-In may queue behind data.
        keepalive?.received(now: now)
        if let numbers = pdu.targetSequenceNumbers {
            window.update(expCmdSN: numbers.expCmdSN, maxCmdSN: numbers.maxCmdSN)
            switch numbers.statSN {
            case .acknowledged(let statSN): window.acknowledge(statSN: statSN)
            case .next(let statSN): window.observe(nextStatSN: statSN)
            case .absent: break
            }
        }
        switch pdu {
        case .dataIn(let dataIn): return receivedDataIn(dataIn)
        case .scsiResponse(let response): return receivedSCSIResponse(response)
        case .readyToTransfer(let r2t): return receivedR2T(r2t)
        case .nopIn(let nop): return receivedNOPIn(nop)
        case .taskManagementResponse(let response): return receivedTaskManagementResponse(response)
        case .textResponse(let response): return receivedTextResponse(response)
        case .logoutResponse(let response): return receivedLogoutResponse(response)
        case .asyncMessage(let message): return receivedAsyncMessage(message)
        case .reject(let reject): return receivedReject(reject)
        case .loginResponse, .nopOut, .scsiCommand, .taskManagementRequest, .loginRequest, .textRequest,
            .dataOut, .logoutRequest, .snackRequest:
            return fail(ISCSIError(.unexpectedPDU, scope: .connection, "\(portal) sent a \(pdu.opcode) PDU in the full feature phase"))
        }
    }

    // MARK: Data-In and status

    private mutating func receivedDataIn(_ dataIn: DataIn) -> Action {
        let tag = dataIn.initiatorTaskTag
        guard case .command(var task)? = tasks[tag] else {
            logger.debug("Data-In for an unknown task", metadata: ["iscsi.itt": "\(tag)"])
            return .none
        }
        guard task.read != nil else {
            // Ignoring it (as for a stale tag) left the command waiting forever, and the
            // keepalive never fires while the target keeps talking.
            return fail(ISCSIError(
                .protocolViolation,
                scope: .connection,
                "\(portal) sent Data-In for task \(Self.hex(tag)) (\(task.name)), which reads no data"
            ))
        }
        do {
            try task.read!.append(dataIn, allocator: allocator)
        } catch {
            return fail(error)
        }
        guard dataIn.statusPresent else {
            tasks.modify(tag) { $0 = .command(task) }
            return .none
        }
        tasks.remove(tag)
        let residual = Self.residual(overflow: dataIn.residualOverflow, underflow: dataIn.residualUnderflow, count: dataIn.residualCount)
        return complete(task, status: dataIn.status, senseData: [], residual: residual)
    }

    /// A long Data-In is copied by the decoder straight into its read's buffer as it arrives:
    /// one copy from the socket's buffers, none afterwards (`ReadAssembly.lend`).
    mutating func lendReadBuffer(for dataIn: DataIn, length: Int) -> ByteBuffer? {
        guard case .command(var task)? = tasks[dataIn.initiatorTaskTag],
            let buffer = task.read?.lend(offset: Int(dataIn.bufferOffset), length: length, allocator: allocator)
        else { return nil }
        // Stored back before the decoder writes, so the buffer has one owner while it does.
        tasks.modify(dataIn.initiatorTaskTag) { $0 = .command(task) }
        return buffer
    }

    private mutating func receivedSCSIResponse(_ response: SCSIResponse) -> Action {
        let tag = response.initiatorTaskTag
        guard case .command(let task)? = tasks[tag] else {
            // A late answer to a task this side already ended (aborted, failed): nothing waits for it.
            logger.debug("SCSI Response for an unknown task", metadata: ["iscsi.itt": "\(tag)"])
            return .none
        }
        tasks.remove(tag)
        guard response.response == ISCSIServiceResponse.commandCompleted.rawValue else {
            return .fail(.command(task.promise), ISCSIError(
                .targetError,
                scope: .task,
                "\(portal) reported a target failure (response 0x\(String(response.response, radix: 16))) for \(task.name) on LUN \(task.lun)"
            ))
        }
        var segment = response.data
        var sense: [UInt8] = []
        if let length = segment.readInteger(as: UInt16.self) {
            sense = segment.readBytes(length: min(Int(length), segment.readableBytes)) ?? []
        }
        let residual = Self.residual(overflow: response.residualOverflow, underflow: response.residualUnderflow, count: response.residualCount)
        return complete(task, status: response.status, senseData: sense, residual: residual)
    }

    private static func residual(overflow: Bool, underflow: Bool, count: UInt32) -> SCSITaskResult.Residual {
        if underflow { return .underflow(Int(count)) }
        if overflow { return .overflow(Int(count)) }
        return .none
    }

    private func complete(_ task: CommandTask, status: UInt8, senseData: [UInt8], residual: SCSITaskResult.Residual) -> Action {
        var data = ByteBuffer()
        if let read = task.read {
            var length = task.expectedDataInLength
            if case .underflow(let missing) = residual { length -= min(missing, length) }
            data = read.finish(length: length)
        }
        return .succeedCommand(task.promise, SCSITaskResult(status: status, senseData: senseData, residual: residual, data: data))
    }

    // MARK: R2T and NOP-In

    private mutating func receivedR2T(_ r2t: ReadyToTransfer) -> Action {
        let tag = r2t.initiatorTaskTag
        guard case .command(var task)? = tasks[tag], task.write != nil else {
            return fail(ISCSIError(
                .protocolViolation,
                scope: .connection,
                "\(portal) sent an R2T for task \(Self.hex(tag)), which has no data to write"
            ))
        }
        let segments: DataOutSequence
        do {
            segments = try task.write!.answer(r2t)
        } catch {
            return fail(error)
        }
        tasks.modify(tag) { $0 = .command(task) }
        return .writeDataOut(dataOutBurst(segments, of: task, tag: tag))
    }

    func dataOutBurst(_ segments: DataOutSequence, of task: CommandTask, tag: UInt32) -> DataOutBurst {
        DataOutBurst(data: task.dataOut, lun: task.lun, initiatorTaskTag: tag, expStatSN: window.expStatSN.rawValue, segments: segments)
    }

    private mutating func receivedNOPIn(_ nop: NOPIn) -> Action {
        if nop.initiatorTaskTag != reservedTag {
            // The answer to our ping.
            if case .ping? = tasks[nop.initiatorTaskTag] { tasks.remove(nop.initiatorTaskTag) }
            return .none
        }
        // The target pings us; answer only when it asked for an answer.
        guard nop.targetTransferTag != reservedTag else { return .none }
        return .write(.nopOut(NOPOut(
            immediate: true,
            lun: nop.lun,
            initiatorTaskTag: reservedTag,
            targetTransferTag: nop.targetTransferTag,
            cmdSN: window.immediateCmdSN,
            expStatSN: window.expStatSN.rawValue,
            data: nop.data
        )))
    }

    // MARK: Task management, text, logout

    private mutating func receivedTaskManagementResponse(_ response: TaskManagementResponse) -> Action {
        let tag = response.initiatorTaskTag
        guard case .taskManagement(let management)? = tasks.remove(tag) else { return .none }
        if !abortDeadlines.isEmpty { abortDeadlines.removeAll { $0.tag == tag } }
        let code = response.response
        if let refusal = management.refusal, code != TaskManagementResponseCode.functionComplete.rawValue,
            code != TaskManagementResponseCode.taskDoesNotExist.rawValue
        {
            return fail(refusal)
        }
        let succeeded = code == TaskManagementResponseCode.functionComplete.rawValue
            || (management.function == .abortTask && code == TaskManagementResponseCode.taskDoesNotExist.rawValue)
        var ended: [InitiatorConnectionStateMachine.EndedCommand] = []
        if succeeded {
            // The target will not answer the tasks this function ended; end them here.
            for taskTag in tasks.tags {
                guard case .command(let task)? = tasks[taskTag], management.ends(task, tag: taskTag) else { continue }
                tasks.remove(taskTag)
                let error = if let after = task.timedOutAfter {
                    ISCSIError(.timeout, scope: .task, "\(task.name) on LUN \(task.lun) was not answered within \(Self.seconds(after)) and was aborted")
                } else {
                    ISCSIError(.taskAborted, scope: .task, "\(task.name) on LUN \(task.lun) was ended by \(management.function)")
                }
                ended.append(.init(promise: task.promise, error: error))
            }
        }
        return .completeTaskManagement(management.promise, response: code, ended: ended)
    }

    private mutating func receivedTextResponse(_ response: TextResponse) -> Action {
        let tag = response.initiatorTaskTag
        guard case .text(var exchange, let promise)? = tasks[tag] else { return .none }
        let action = exchange.receivedTextResponse(response)
        tasks.modify(tag) { $0 = .text(exchange, promise) }
        return textAction(action, tag: tag, promise: promise)
    }

    mutating func textAction(_ action: TextExchangeStateMachine.Action, tag: UInt32, promise: EventLoopPromise<[TextKeyValue]>) -> Action {
        switch action {
        case .sendTextRequest(let request):
            return .write(.textRequest(request))
        case .completed(let result):
            tasks.remove(tag)
            return .succeedText(promise, result.pairs)
        case .failed(let error):
            // An error beyond the exchange ends the connection, and the exchange with it.
            guard error.scope == .task else { return fail(error) }
            tasks.remove(tag)
            return .fail(.text(promise), error)
        case .wait:
            return .none
        }
    }

    private mutating func receivedLogoutResponse(_ response: LogoutResponse) -> Action {
        guard case .logout(let promise)? = tasks.remove(response.initiatorTaskTag) else { return .none }
        guard response.response == 0 else {
            return .fail(.logout(promise), ISCSIError(.protocolViolation, scope: .session, "\(portal) refused the logout (response \(response.response))"))
        }
        // Without this, work submitted after a logout failed with "the target closed the
        // connection", which reads like a fault; say that the session was logged out.
        var closure = close(
            ISCSIError(.sessionClosed, scope: .session, "the session with \(portal) was logged out"),
            reportsLoss: false,
            login: .settled,
            closesChannel: true
        )
        closure.loggedOut.insert(promise, at: 0)
        return .close(closure)
    }

    // MARK: Asynchronous messages and rejects

    private func receivedAsyncMessage(_ message: AsyncMessage) -> Action {
        switch AsyncEvent(rawValue: message.asyncEvent) {
        case .scsiAsyncEvent:
            var segment = message.data
            let length = segment.readInteger(as: UInt16.self).map(Int.init) ?? 0
            let sense = segment.readBytes(length: min(length, segment.readableBytes)) ?? []
            return .report(.unitAttention(lun: ISCSIPDU.decodeLUN(message.lun), senseData: sense))
        case .logoutRequested:
            return .report(.logoutRequested(withinSeconds: Int(message.parameter3)))
        case .connectionDropped, .allConnectionsDropped:
            return .report(.connectionDropAnnounced(time2Wait: Int(message.parameter2), time2Retain: Int(message.parameter3)))
        case .renegotiationRequested:
            return .report(.renegotiationRequested)
        case .vendorSpecific, nil:
            logger.debug("ignored asynchronous message", metadata: ["iscsi.event": "\(message.asyncEvent)"])
            return .none
        }
    }

    /// A Reject ends the task whose PDU it quotes, with the reason; one that quotes no live
    /// task (or a PDU without a task) is only logged.
    private mutating func receivedReject(_ reject: Reject) -> Action {
        let reason = RejectReason(rawValue: reject.reason).map(\.description) ?? "reason 0x\(String(reject.reason, radix: 16))"
        guard let tag = reject.rejectedInitiatorTaskTag, tag != reservedTag, let task = tasks.remove(tag) else {
            logger.notice("target rejected a PDU", metadata: ["iscsi.reason": "\(reason)"])
            return .none
        }
        let error = ISCSIError(.rejected, scope: .task, "\(portal) rejected the PDU: \(reason)")
        switch task {
        case .command(let command):
            return .fail(.command(command.promise), ISCSIError(.rejected, scope: .task, "\(portal) rejected \(command.name): \(reason)"))
        case .ping:
            return .none
        case .taskManagement(let management):
            if !abortDeadlines.isEmpty { abortDeadlines.removeAll { $0.tag == tag } }
            guard let promise = management.promise else { return .none }
            return .fail(.taskManagement(promise), error)
        case .text(_, let promise):
            return .fail(.text(promise), error)
        case .logout(let promise):
            return .fail(.logout(promise), error)
        }
    }
}

extension InitiatorConnectionStateMachine.FullFeaturePhase.TaskManagementTask {
    /// Whether this function, once complete, ended the command with tag `tag`.
    func ends(_ command: InitiatorConnectionStateMachine.FullFeaturePhase.CommandTask, tag: UInt32) -> Bool {
        switch function {
        case .abortTask: tag == referencedTag
        case .abortTaskSet, .clearTaskSet, .logicalUnitReset: command.lun == lun
        case .targetWarmReset, .targetColdReset: true
        case .clearACA, .taskReassign: false
        }
    }
}
