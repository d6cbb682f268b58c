// The target's full feature phase event by event: the CmdSN window, write data and
// R2Ts, Data-In and status, residuals, pings, task management, text and logout.

@testable import Export
import ISCSI
import NIOCore
import Testing

@Suite struct TargetConnectionStateMachineTests {
    typealias Machine = TargetConnectionStateMachine
    static let lun0: UInt64 = 0
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func machine(
        immediateData: Bool = true, initialR2T: Bool = false, firstBurst: Int = 4096, maxBurst: Int = 8192,
        outstandingR2T: Int = 2, segment: Int = 1024, window: UInt32 = 4
    ) -> Machine {
        var parameters = TargetSessionParameters()
        parameters.immediateData = immediateData
        parameters.initialR2T = initialR2T
        parameters.firstBurstLength = firstBurst
        parameters.maxBurstLength = maxBurst
        parameters.maxOutstandingR2T = outstandingR2T
        parameters.initiatorMaxRecvDataSegmentLength = segment
        let configuration = Machine.Configuration(
            parameters: parameters, sessionType: .normal, commandWindow: window, luns: [Self.lun0],
            sendTargets: { query in [TextKeyValue("TargetName", "iqn.test:\(query.isEmpty ? "self" : query)")] },
            pingInterval: .seconds(5), pingTimeout: .seconds(5)
        )
        return Machine(configuration: configuration, expCmdSN: 1, statSN: 50, now: start)
    }

    func read(tag: UInt32, cmdSN: UInt32, length: UInt32 = 512, immediate: Bool = false) -> ISCSIPDU {
        .scsiCommand(SCSICommand(immediate: immediate, read: true, write: false, lun: Self.lun0, initiatorTaskTag: tag, expectedDataTransferLength: length, cmdSN: cmdSN, expStatSN: 0, cdb: [0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0]))
    }

    func executed(_ actions: [Machine.Action]) -> [TargetCommand] {
        actions.compactMap { if case .execute(let command) = $0 { command } else { nil } }
    }

    func sent(_ actions: [Machine.Action]) -> [ISCSIPDU] {
        actions.compactMap { if case .send(let pdu) = $0 { pdu } else { nil } }
    }

    @Test func theWindowDeliversInOrderHoldsGapsAndDropsTheRest() {
        var m = machine()
        #expect(executed(m.received(read(tag: 1, cmdSN: 1), now: start)).map(\.initiatorTaskTag) == [1])
        // CmdSN 3 waits for 2; 2 releases both, in order.
        #expect(m.received(read(tag: 3, cmdSN: 3), now: start).isEmpty)
        #expect(executed(m.received(read(tag: 2, cmdSN: 2), now: start)).map(\.initiatorTaskTag) == [2, 3])
        // Already seen, and beyond MaxCmdSN: silently ignored (RFC 7143 §4.2.2.1).
        #expect(m.received(read(tag: 9, cmdSN: 2), now: start).isEmpty)
        #expect(m.received(read(tag: 10, cmdSN: 1000), now: start).isEmpty)
        // Immediate commands skip the window and do not advance it.
        #expect(executed(m.received(read(tag: 11, cmdSN: 4, immediate: true), now: start)).map(\.initiatorTaskTag) == [11])
        // The next answer says so: ExpCmdSN 4, and with three of four window slots busy
        // MaxCmdSN stays where it was advertised.
        guard case .nopIn(let echo)? = sent(m.received(.nopOut(NOPOut(immediate: true, initiatorTaskTag: 12, cmdSN: 4, expStatSN: 0)), now: start)).first else {
            Issue.record("expected a NOP-In")
            return
        }
        #expect(echo.expCmdSN == 4)
        #expect(echo.maxCmdSN == 4)
    }

    @Test func serialArithmeticWrapsAroundZero() {
        var window = TargetCommandWindow<Int>(expCmdSN: 0xFFFF_FFFF, size: 8)
        #expect(window.admit(cmdSN: 0xFFFF_FFFF, immediate: false, command: 1) == .deliver)
        #expect(window.admit(cmdSN: 1, immediate: false, command: 3) == .hold)
        #expect(window.admit(cmdSN: 0, immediate: false, command: 2) == .deliver)
        #expect(window.nextReady() == 3)
        #expect(window.expCmdSN == 2)
        #expect(window.admit(cmdSN: 0xFFFF_FFF0, immediate: false, command: 4) == .drop)
    }

    @Test func abortedCommandsAheadOfExpCmdSNKeepTheirCmdSNSoTheRestFollows() {
        var window = TargetCommandWindow<Int>(expCmdSN: 1, size: 8)
        #expect(window.admit(cmdSN: 2, immediate: false, command: 2) == .hold)
        #expect(window.admit(cmdSN: 4, immediate: false, command: 4) == .hold)
        // ABORT TASK of a held command, and of one not arrived yet (3); 4 is taken, 100 beyond MaxCmdSN.
        let abortedHeld = window.abortHeld(cmdSN: 2) { $0 == 2 }
        let abortedUnsent = window.abortUnreceived(cmdSN: 3)
        let taken = window.abortUnreceived(cmdSN: 4)
        let beyond = window.abortUnreceived(cmdSN: 100)
        #expect(abortedHeld == 2 && abortedUnsent && !taken && !beyond)
        // The aborted one arriving late is a duplicate; filling the gap passes both aborted slots.
        #expect(window.admit(cmdSN: 3, immediate: false, command: 3) == .drop)
        #expect(window.admit(cmdSN: 1, immediate: false, command: 1) == .deliver)
        #expect(window.nextReady() == 4)
        #expect(window.nextReady() == nil && window.expCmdSN == 5)
        // ABORT TASK SET (next CmdSN 7) reaches the held commands sent before it, not after.
        #expect(window.admit(cmdSN: 6, immediate: false, command: 6) == .hold)
        #expect(window.admit(cmdSN: 8, immediate: false, command: 8) == .hold)
        let abortedBefore = window.abortHeld(before: 7) { _ in true }
        #expect(abortedBefore == 1)
        #expect(window.admit(cmdSN: 5, immediate: false, command: 5) == .deliver)
        #expect(window.nextReady() == nil && window.expCmdSN == 7)
        #expect(window.admit(cmdSN: 7, immediate: false, command: 7) == .deliver)
        #expect(window.nextReady() == 8)
    }

    @Test func readDataIsSplitAtTheInitiatorsSegmentLengthWithStatusInTheLast() throws {
        var m = machine(segment: 1024)
        _ = m.received(read(tag: 7, cmdSN: 1, length: 4096), now: start)
        let data = ByteBuffer(repeating: 0xAB, count: 2560)
        let pdus = sent(m.completed(7, outcome: TargetCommandOutcome(status: 0, dataIn: data, transferLength: 2560)))
        #expect(pdus.count == 3)
        guard case .dataIn(let last) = pdus[2], case .dataIn(let first) = pdus[0] else {
            Issue.record("expected Data-In PDUs, got \(pdus)")
            return
        }
        #expect(first.data.readableBytes == 1024 && !first.statusPresent && first.dataSN == 0)
        #expect(last.statusPresent && last.final && last.dataSN == 2 && last.bufferOffset == 2048)
        #expect(last.residualUnderflow && last.residualCount == 4096 - 2560)
        #expect(last.statSN == 50)
        // The status consumed StatSN 50: the next PDU with status carries 51.
        guard case .nopIn(let echo)? = sent(m.received(.nopOut(NOPOut(immediate: true, initiatorTaskTag: 12, cmdSN: 2, expStatSN: 0)), now: start)).first else {
            Issue.record("expected a NOP-In")
            return
        }
        #expect(echo.statSN == 51)
        // The task is gone: a second completion finds nothing.
        #expect(m.completed(7, outcome: TargetCommandOutcome(status: 0, transferLength: 0)).isEmpty)
    }

    @Test func senseGoesInASCSIResponseWithOverflowResidual() throws {
        var m = machine()
        _ = m.received(read(tag: 8, cmdSN: 1, length: 512), now: start)
        let sense: [UInt8] = [0x70, 0, 5, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24, 0, 0, 0, 0, 0]
        let pdus = sent(m.completed(8, outcome: TargetCommandOutcome(status: 2, sense: sense, transferLength: 1024)))
        guard pdus.count == 1, case .scsiResponse(let response) = pdus[0] else {
            Issue.record("expected one SCSI Response, got \(pdus)")
            return
        }
        #expect(response.status == 2 && response.residualOverflow && response.residualCount == 512)
        var data = response.data
        #expect(data.readInteger(as: UInt16.self) == UInt16(sense.count))
        #expect(data.readBytes(length: sense.count) == sense)
    }

    @Test func writesTakeImmediateThenUnsolicitedDataThenR2TsWithinTheBursts() throws {
        var m = machine(firstBurst: 2048, maxBurst: 4096, outstandingR2T: 2)
        let total = 2048 + 4096 * 2 + 1024
        let command = ISCSIPDU.scsiCommand(SCSICommand(final: false, read: false, write: true, lun: Self.lun0, initiatorTaskTag: 5, expectedDataTransferLength: UInt32(total), cmdSN: 1, expStatSN: 0, cdb: [0x2A, 0, 0, 0, 0, 0, 0, 0, 0x16, 0], data: ByteBuffer(repeating: 1, count: 1024)))
        #expect(m.received(command, now: start).isEmpty)
        let unsolicited = ISCSIPDU.dataOut(DataOut(final: true, lun: Self.lun0, initiatorTaskTag: 5, expStatSN: 0, dataSN: 0, bufferOffset: 1024, data: ByteBuffer(repeating: 2, count: 1024)))
        let r2ts = sent(m.received(unsolicited, now: start)).compactMap { pdu -> ReadyToTransfer? in
            if case .readyToTransfer(let r2t) = pdu { r2t } else { nil }
        }
        // MaxOutstandingR2T=2: two bursts of MaxBurstLength, the rest after one completes.
        #expect(r2ts.map(\.bufferOffset) == [2048, 6144])
        #expect(r2ts.map(\.desiredDataTransferLength) == [4096, 4096])
        #expect(r2ts.map(\.r2tSN) == [0, 1])

        var actions: [Machine.Action] = []
        for (index, offset) in stride(from: 2048, to: 6144, by: 1024).enumerated() {
            actions = m.received(.dataOut(DataOut(final: offset == 5120, lun: Self.lun0, initiatorTaskTag: 5, targetTransferTag: r2ts[0].targetTransferTag, expStatSN: 0, dataSN: UInt32(index), bufferOffset: UInt32(offset), data: ByteBuffer(repeating: 3, count: 1024))), now: start)
        }
        guard case .readyToTransfer(let third) = sent(actions).first else {
            Issue.record("expected a third R2T after the first burst, got \(actions)")
            return
        }
        #expect(third.bufferOffset == 10240 && third.desiredDataTransferLength == 1024 && third.r2tSN == 2)
        for (index, offset) in stride(from: 6144, to: 10240, by: 1024).enumerated() {
            actions = m.received(.dataOut(DataOut(final: offset == 9216, lun: Self.lun0, initiatorTaskTag: 5, targetTransferTag: r2ts[1].targetTransferTag, expStatSN: 0, dataSN: UInt32(index), bufferOffset: UInt32(offset), data: ByteBuffer(repeating: 4, count: 1024))), now: start)
        }
        #expect(actions.isEmpty)
        actions = m.received(.dataOut(DataOut(final: true, lun: Self.lun0, initiatorTaskTag: 5, targetTransferTag: third.targetTransferTag, expStatSN: 0, dataSN: 0, bufferOffset: 10240, data: ByteBuffer(repeating: 5, count: 1024))), now: start)
        let command2 = try #require(executed(actions).first)
        #expect(command2.dataOut.readableBytes == total)
        #expect(command2.dataOut.getInteger(at: command2.dataOut.readerIndex, as: UInt8.self) == 1)
        #expect(command2.dataOut.getInteger(at: command2.dataOut.readerIndex + total - 1, as: UInt8.self) == 5)
    }

    @Test func aWrongDataSNEndsTheTaskNotTheConnection() throws {
        var m = machine(initialR2T: true)
        let write = ISCSIPDU.scsiCommand(SCSICommand(read: false, write: true, lun: Self.lun0, initiatorTaskTag: 6, expectedDataTransferLength: 1024, cmdSN: 1, expStatSN: 0, cdb: [0x2A, 0, 0, 0, 0, 0, 0, 0, 2, 0]))
        guard case .readyToTransfer(let r2t) = try #require(sent(m.received(write, now: start)).first) else {
            Issue.record("expected an R2T")
            return
        }
        let bad = m.received(.dataOut(DataOut(final: false, lun: Self.lun0, initiatorTaskTag: 6, targetTransferTag: r2t.targetTransferTag, expStatSN: 0, dataSN: 27, bufferOffset: 0, data: ByteBuffer(repeating: 0, count: 512))), now: start)
        guard case .scsiResponse(let response) = try #require(sent(bad).first) else {
            Issue.record("expected a SCSI Response, got \(bad)")
            return
        }
        #expect(response.status == 2)
        #expect(response.data.getInteger(at: response.data.readerIndex + 2 + 12, as: UInt8.self) == 0x4B)
        #expect(!bad.contains(where: { if case .close = $0 { true } else { false } }))
        #expect(bad.contains(where: { if case .writeFailed(let reason) = $0 { reason.contains("DataSN 27") } else { false } }))
        // Later data for the ended task is discarded; the connection still reads commands.
        #expect(m.received(.dataOut(DataOut(final: true, lun: Self.lun0, initiatorTaskTag: 6, targetTransferTag: r2t.targetTransferTag, expStatSN: 0, dataSN: 1, bufferOffset: 512, data: ByteBuffer(repeating: 0, count: 512))), now: start).isEmpty)
        #expect(executed(m.received(read(tag: 7, cmdSN: 2), now: start)).count == 1)
    }

    @Test func immediateDataPastTheFirstBurstIsRejected() throws {
        var m = machine(firstBurst: 512)
        let write = ISCSIPDU.scsiCommand(SCSICommand(read: false, write: true, lun: Self.lun0, initiatorTaskTag: 6, expectedDataTransferLength: 1024, cmdSN: 1, expStatSN: 0, cdb: [0x2A, 0, 0, 0, 0, 0, 0, 0, 2, 0], data: ByteBuffer(repeating: 0, count: 1024)))
        guard case .reject(let reject) = try #require(sent(m.received(write, now: start)).first) else {
            Issue.record("expected a Reject")
            return
        }
        #expect(reject.reason == RejectReason.protocolError.rawValue)
        #expect(reject.rejectedInitiatorTaskTag == 6)
    }

    @Test func pingsAreAnsweredAndSilenceIsPingedThenDropped() throws {
        var m = machine()
        let ping = ISCSIPDU.nopOut(NOPOut(immediate: true, initiatorTaskTag: 77, cmdSN: 1, expStatSN: 0, data: ByteBuffer(string: "hello")))
        guard case .nopIn(let echo) = try #require(sent(m.received(ping, now: start)).first) else {
            Issue.record("expected a NOP-In")
            return
        }
        #expect(echo.initiatorTaskTag == 77 && echo.targetTransferTag == reservedTag && String(buffer: echo.data) == "hello")

        #expect(m.timerFired(now: start + .seconds(4)).isEmpty)
        guard case .nopIn(let probe) = try #require(sent(m.timerFired(now: start + .seconds(6))).first) else {
            Issue.record("expected our NOP-In ping")
            return
        }
        #expect(probe.initiatorTaskTag == reservedTag && probe.targetTransferTag != reservedTag)
        // Answered: no drop.
        _ = m.received(.nopOut(NOPOut(initiatorTaskTag: reservedTag, targetTransferTag: probe.targetTransferTag, cmdSN: 1, expStatSN: 0)), now: start + .seconds(7))
        #expect(m.timerFired(now: start + .seconds(11)).isEmpty)
        // Not answered within the timeout: the connection goes.
        #expect(sent(m.timerFired(now: start + .seconds(13))).count == 1)
        let drop = m.timerFired(now: start + .seconds(19))
        #expect(drop.contains(where: { if case .close = $0 { true } else { false } }))
        #expect(m.received(read(tag: 1, cmdSN: 1), now: start + .seconds(20)).isEmpty)
    }

    @Test func abortTaskSuppressesTheResponseOrReportsATaskThatIsGone() throws {
        var m = machine()
        _ = m.received(read(tag: 1, cmdSN: 1), now: start)
        let abort = ISCSIPDU.taskManagementRequest(TaskManagementRequest(function: .abortTask, lun: Self.lun0, initiatorTaskTag: 2, referencedTaskTag: 1, cmdSN: 2, expStatSN: 0, refCmdSN: 1))
        guard case .taskManagementResponse(let done) = try #require(sent(m.received(abort, now: start)).first) else {
            Issue.record("expected a TMF response")
            return
        }
        #expect(done.response == TaskManagementResponseCode.functionComplete.rawValue)
        #expect(m.completed(1, outcome: TargetCommandOutcome(status: 0, dataIn: ByteBuffer(repeating: 0, count: 512), transferLength: 512)).isEmpty)
        let late = ISCSIPDU.taskManagementRequest(TaskManagementRequest(function: .abortTask, lun: Self.lun0, initiatorTaskTag: 3, referencedTaskTag: 1, cmdSN: 2, expStatSN: 0, refCmdSN: 1))
        guard case .taskManagementResponse(let gone) = try #require(sent(m.received(late, now: start)).first) else {
            Issue.record("expected a TMF response")
            return
        }
        #expect(gone.response == TaskManagementResponseCode.taskDoesNotExist.rawValue)
        // A RefCmdSN past MaxCmdSN names a command that cannot have been sent (RFC 7143 §11.5.1).
        let beyond = ISCSIPDU.taskManagementRequest(TaskManagementRequest(function: .abortTask, lun: Self.lun0, initiatorTaskTag: 6, referencedTaskTag: 99, cmdSN: 2, expStatSN: 0, refCmdSN: 1000))
        guard case .taskManagementResponse(let unsent) = try #require(sent(m.received(beyond, now: start)).first) else {
            Issue.record("expected a TMF response")
            return
        }
        #expect(unsent.response == TaskManagementResponseCode.taskDoesNotExist.rawValue)
        let reset = m.received(.taskManagementRequest(TaskManagementRequest(function: .logicalUnitReset, lun: Self.lun0, initiatorTaskTag: 4, cmdSN: 2, expStatSN: 0)), now: start)
        #expect(reset.first == .taskManagement(.logicalUnitReset, lun: Self.lun0))
        let noLUN = sent(m.received(.taskManagementRequest(TaskManagementRequest(function: .abortTaskSet, lun: 7 << 48, initiatorTaskTag: 5, cmdSN: 2, expStatSN: 0)), now: start))
        guard case .taskManagementResponse(let missing) = try #require(noLUN.first) else { return }
        #expect(missing.response == TaskManagementResponseCode.lunDoesNotExist.rawValue)
    }

    @Test func sendTargetsTextAndLogout() throws {
        var m = machine()
        let text = ISCSIPDU.textRequest(TextRequest(initiatorTaskTag: 9, cmdSN: 1, expStatSN: 0, data: ByteBuffer(textKeyValues: [TextKeyValue("SendTargets", "All"), TextKeyValue("X-Vendor", "1")])))
        guard case .textResponse(let response) = try #require(sent(m.received(text, now: start)).first) else {
            Issue.record("expected a Text Response")
            return
        }
        var data = response.data
        let pairs = try data.readTextKeyValues(limits: .exchange)
        #expect(pairs == [TextKeyValue("TargetName", "iqn.test:self"), TextKeyValue("X-Vendor", "NotUnderstood")])
        #expect(response.final && response.targetTransferTag == reservedTag)

        let snack = sent(m.received(.snackRequest(SNACKRequest(type: 0, initiatorTaskTag: 1, expStatSN: 0, begRun: 0, runLength: 0)), now: start))
        guard case .reject(let reject) = try #require(snack.first) else { return }
        #expect(reject.reason == RejectReason.snackReject.rawValue)

        let logout = m.received(.logoutRequest(LogoutRequest(reason: .closeSession, initiatorTaskTag: 10, connectionID: 0, cmdSN: 1, expStatSN: 0)), now: start)
        guard case .logoutResponse(let bye) = try #require(sent(logout).first) else { return }
        #expect(bye.response == 0)
        #expect(logout.last == .close(reason: "logout"))
        #expect(m.received(read(tag: 1, cmdSN: 1), now: start).isEmpty)
    }

    @Test func undecodablePDUsAreRejectedWithTheirHeader() throws {
        var m = machine()
        var header = ByteBuffer(repeating: 0, count: 48)
        header.setInteger(UInt8(0x1F), at: 0)
        guard case .reject(let reject) = try #require(sent(m.receivedUndecodable(header: header, reason: .commandNotSupported, now: start)).first) else { return }
        #expect(reject.reason == RejectReason.commandNotSupported.rawValue && reject.data == header)
    }
}
