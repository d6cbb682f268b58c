// Write budgets and the data-phase timeout, event by event: a connection past its budget
// answers TASK SET FULL, an export past its shared budget BUSY; ended writes give their
// charge back; a write whose Data-Out stops is failed with INITIATOR RESPONSE TIMEOUT.

@testable import Export
import ISCSI
import NIOCore
import Testing

@Suite struct TargetWriteBudgetTests {
    typealias Machine = TargetConnectionStateMachine
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func machine(connectionBudget: Int, export: ExportWriteBudget, dataPhaseTimeout: TimeAmount? = .seconds(20)) -> Machine {
        var parameters = TargetSessionParameters()
        parameters.immediateData = false
        parameters.initialR2T = true
        parameters.maxBurstLength = 8192
        parameters.maxOutstandingR2T = 1
        let configuration = Machine.Configuration(
            parameters: parameters, sessionType: .normal, commandWindow: 16, luns: [0],
            sendTargets: { _ in [] }, pingInterval: nil,
            connectionWriteBudget: connectionBudget, exportWriteBudget: export, dataPhaseTimeout: dataPhaseTimeout
        )
        return Machine(configuration: configuration, expCmdSN: 1, statSN: 1, now: start)
    }

    func write(tag: UInt32, cmdSN: UInt32, bytes: Int) -> ISCSIPDU {
        .scsiCommand(SCSICommand(
            read: false, write: true, lun: 0, initiatorTaskTag: tag, expectedDataTransferLength: UInt32(bytes),
            cmdSN: cmdSN, expStatSN: 0, cdb: [0x2A, 0, 0, 0, 0, 0, 0, 0, UInt8(bytes / 512), 0]
        ))
    }

    /// The status of every SCSI Response among `actions`, by tag.
    func statuses(_ actions: [Machine.Action]) -> [UInt32: UInt8] {
        var result: [UInt32: UInt8] = [:]
        for case .send(.scsiResponse(let response)) in actions { result[response.initiatorTaskTag] = response.status }
        return result
    }

    func r2t(_ actions: [Machine.Action]) -> ReadyToTransfer? {
        for case .send(.readyToTransfer(let r2t)) in actions { return r2t }
        return nil
    }

    @Test func aConnectionPastItsBudgetAnswersTaskSetFullUntilAWriteEnds() throws {
        let export = ExportWriteBudget(limit: 1 << 20)
        var m = machine(connectionBudget: 8192, export: export)
        let first = try #require(r2t(m.received(write(tag: 1, cmdSN: 1, bytes: 4096), now: start)))
        #expect(r2t(m.received(write(tag: 2, cmdSN: 2, bytes: 4096), now: start)) != nil)
        #expect(statuses(m.received(write(tag: 3, cmdSN: 3, bytes: 4096), now: start)) == [3: 0x28])
        #expect(export.charged == 8192 && export.refusedForConnection == 1)
        // Task 1 gets its data, runs and completes: its 4 KiB go back.
        let data = ISCSIPDU.dataOut(DataOut(final: true, lun: 0, initiatorTaskTag: 1, targetTransferTag: first.targetTransferTag, expStatSN: 0, dataSN: 0, bufferOffset: 0, data: ByteBuffer(repeating: 7, count: 4096)))
        let executed = m.received(data, now: start).contains { if case .execute(let command) = $0 { command.dataOut.readableBytes == 4096 } else { false } }
        #expect(executed)
        #expect(export.charged == 8192, "a running write keeps its buffer until it completes")
        _ = m.completed(1, outcome: TargetCommandOutcome(status: 0, transferLength: 4096))
        #expect(export.charged == 4096)
        #expect(r2t(m.received(write(tag: 4, cmdSN: 4, bytes: 4096), now: start)) != nil, "room again after task 1 ended")
    }

    @Test func anExportPastItsSharedBudgetAnswersBusyAndAClosedConnectionGivesItsShareBack() {
        let export = ExportWriteBudget(limit: 8192)
        var first = machine(connectionBudget: 1 << 20, export: export)
        var second = machine(connectionBudget: 1 << 20, export: export)
        #expect(r2t(first.received(write(tag: 1, cmdSN: 1, bytes: 8192), now: start)) != nil)
        #expect(statuses(second.received(write(tag: 1, cmdSN: 1, bytes: 512), now: start)) == [1: 0x08])
        #expect(export.refusedForExport == 1 && export.peak == 8192)
        first.connectionClosed()
        #expect(export.charged == 0)
        #expect(r2t(second.received(write(tag: 2, cmdSN: 2, bytes: 512), now: start)) != nil)
    }

    @Test func aWriteWhoseDataStopsFailsAtTheDataPhaseTimeoutAndFreesItsBudget() throws {
        let export = ExportWriteBudget(limit: 1 << 20)
        var m = machine(connectionBudget: 1 << 20, export: export, dataPhaseTimeout: .seconds(20))
        let first = try #require(r2t(m.received(write(tag: 9, cmdSN: 1, bytes: 8192), now: start)))
        // Half the burst arrives at 10 s: the timeout runs from there.
        let half = ISCSIPDU.dataOut(DataOut(final: false, lun: 0, initiatorTaskTag: 9, targetTransferTag: first.targetTransferTag, expStatSN: 0, dataSN: 0, bufferOffset: 0, data: ByteBuffer(repeating: 1, count: 4096)))
        #expect(m.received(half, now: start + .seconds(10)).isEmpty)
        #expect(m.timerFired(now: start + .seconds(25)).isEmpty)
        let actions = m.timerFired(now: start + .seconds(30))
        guard case .send(.scsiResponse(let response))? = actions.first else {
            Issue.record("no SCSI Response at the timeout: \(actions)")
            return
        }
        var segment = response.data
        let sense = segment.readBytes(length: segment.readableBytes) ?? []
        // The segment is a 2-byte length, then fixed-format sense.
        #expect(response.status == 2 && sense.count >= 16)
        #expect(sense.count >= 16 && sense[4] & 0x0F == 0x0B && sense[14] == 0x4B && sense[15] == 0x06)
        #expect(export.charged == 0 && export.dataTimeouts == 1)
        // The rest of its data, arriving late, is discarded.
        let late = ISCSIPDU.dataOut(DataOut(final: true, lun: 0, initiatorTaskTag: 9, targetTransferTag: first.targetTransferTag, expStatSN: 0, dataSN: 1, bufferOffset: 4096, data: ByteBuffer(repeating: 1, count: 4096)))
        #expect(m.received(late, now: start + .seconds(31)).isEmpty)
        // The table let go of it: a new write may take its tag (a live task's would be rejected).
        #expect(r2t(m.received(write(tag: 9, cmdSN: 2, bytes: 4096), now: start + .seconds(32))) != nil)
    }
}
