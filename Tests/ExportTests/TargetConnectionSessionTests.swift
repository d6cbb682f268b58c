// The target connection's keepalive, text exchange and task table, driven through the
// state machine's events and checked by its actions only: a discovery session's idle
// timeout, a long SendTargets answer in pieces, the immediate-command limit and
// Data-Out for a task the table no longer holds.

@testable import Export
import ISCSI
import NIOCore
import Testing

@Suite struct TargetConnectionSessionTests {
    typealias Machine = TargetConnectionStateMachine
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func machine(_ sessionType: SessionType, segment: Int = 512, idleTimeout: TimeAmount? = nil, targets: Int = 1, maximumImmediateTasks: Int = 16) -> Machine {
        var parameters = TargetSessionParameters()
        parameters.initiatorMaxRecvDataSegmentLength = segment
        var configuration = Machine.Configuration(
            parameters: parameters, sessionType: sessionType, commandWindow: 8, luns: [0],
            sendTargets: { _ in (0..<targets).map { TextKeyValue("TargetName", "iqn.2026-11.test:target-number-\($0)") } },
            pingInterval: nil, idleTimeout: idleTimeout
        )
        configuration.maximumImmediateTasks = maximumImmediateTasks
        return Machine(configuration: configuration, expCmdSN: 1, statSN: 10, now: start)
    }

    func sent(_ actions: [Machine.Action]) -> [ISCSIPDU] {
        actions.compactMap { if case .send(let pdu) = $0 { pdu } else { nil } }
    }

    func closes(_ actions: [Machine.Action]) -> String? {
        for case .close(let reason) in actions { return reason }
        return nil
    }

    @Test func anIdleDiscoverySessionIsClosedAndPingsDoNotKeepItOpen() {
        var m = machine(.discovery, idleTimeout: .seconds(10))
        _ = m.received(.textRequest(TextRequest(initiatorTaskTag: 1, cmdSN: 1, expStatSN: 0, data: ByteBuffer(textKeyValues: [TextKeyValue("SendTargets", "All")]))), now: start + .seconds(2))
        // A NOP-Out is answered but is no request: the idle time still runs from the text at 2 s.
        let nop = ISCSIPDU.nopOut(NOPOut(immediate: true, initiatorTaskTag: 2, cmdSN: 1, expStatSN: 0))
        #expect(sent(m.received(nop, now: start + .seconds(8))).count == 1)
        #expect(m.timerFired(now: start + .seconds(11)).isEmpty)
        let reason = closes(m.timerFired(now: start + .seconds(12)))
        #expect(reason == "the discovery session sent no request for 10 s")
        // Closed: nothing more is answered.
        #expect(m.received(nop, now: start + .seconds(13)).isEmpty)
    }

    @Test func aLongSendTargetsAnswerGoesOutInPiecesTheInitiatorAsksFor() throws {
        var m = machine(.discovery, segment: 512, targets: 40)
        var answer = ByteBuffer()
        let first = sent(m.received(.textRequest(TextRequest(initiatorTaskTag: 5, cmdSN: 1, expStatSN: 0, data: ByteBuffer(textKeyValues: [TextKeyValue("SendTargets", "All")]))), now: start))
        guard case .textResponse(var piece)? = first.first else {
            Issue.record("expected a Text Response, got \(first)")
            return
        }
        var pieces = 1
        // Bounded: 40 names of about 45 bytes fit in a few 512-byte pieces.
        while piece.continue, pieces < 20 {
            #expect(!piece.final && piece.targetTransferTag != reservedTag && piece.data.readableBytes <= 512)
            answer.writeImmutableBuffer(piece.data)
            // A request naming another TTT is refused; the exchange goes on.
            let wrong = sent(m.received(.textRequest(TextRequest(initiatorTaskTag: 5, targetTransferTag: piece.targetTransferTag &+ 100, cmdSN: 1, expStatSN: 0, data: ByteBuffer())), now: start))
            guard case .reject(let reject)? = wrong.first else {
                Issue.record("expected a Reject for a wrong TTT, got \(wrong)")
                return
            }
            #expect(reject.reason == RejectReason.invalidPDUField.rawValue)
            let next = sent(m.received(.textRequest(TextRequest(initiatorTaskTag: 5, targetTransferTag: piece.targetTransferTag, cmdSN: 1, expStatSN: 0, data: ByteBuffer())), now: start))
            guard case .textResponse(let following)? = next.first else {
                Issue.record("expected the next piece, got \(next)")
                return
            }
            piece = following
            pieces += 1
        }
        #expect(pieces > 1 && piece.final && piece.targetTransferTag == reservedTag)
        answer.writeImmutableBuffer(piece.data)
        let pairs = try answer.readTextKeyValues(limits: .exchange)
        #expect(pairs.count == 40 && pairs.last == TextKeyValue("TargetName", "iqn.2026-11.test:target-number-39"))
    }

    @Test func immediateCommandsPastTheLimitAreRejectedUntilOneEnds() {
        var m = machine(.normal, maximumImmediateTasks: 1)
        func read(_ tag: UInt32) -> ISCSIPDU {
            .scsiCommand(SCSICommand(immediate: true, read: true, write: false, lun: 0, initiatorTaskTag: tag, expectedDataTransferLength: 512, cmdSN: 1, expStatSN: 0, cdb: [0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0]))
        }
        #expect(m.received(read(1), now: start).contains { if case .execute = $0 { true } else { false } })
        guard case .reject(let reject)? = sent(m.received(read(2), now: start)).first else {
            Issue.record("expected a Reject for a second immediate command")
            return
        }
        #expect(reject.reason == RejectReason.immediateCommandRejected.rawValue && reject.rejectedInitiatorTaskTag == 2)
        #expect(sent(m.completed(1, outcome: TargetCommandOutcome(status: 0, dataIn: ByteBuffer(repeating: 0, count: 512), transferLength: 512))).count == 1)
        #expect(m.received(read(3), now: start).contains { if case .execute = $0 { true } else { false } })
    }

    @Test func dataOutForATaskTheTableDoesNotHoldIsDiscarded() {
        var m = machine(.normal)
        let stray = ISCSIPDU.dataOut(DataOut(final: true, lun: 0, initiatorTaskTag: 77, targetTransferTag: 5, expStatSN: 0, dataSN: 0, bufferOffset: 0, data: ByteBuffer(repeating: 1, count: 512)))
        #expect(m.received(stray, now: start).isEmpty)
        // A read's task receives no Data-Out either: what arrives for it is dropped.
        let read = ISCSIPDU.scsiCommand(SCSICommand(read: true, write: false, lun: 0, initiatorTaskTag: 77, expectedDataTransferLength: 512, cmdSN: 1, expStatSN: 0, cdb: [0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0]))
        #expect(m.received(read, now: start).count == 1)
        #expect(m.received(stray, now: start).isEmpty)
    }
}
