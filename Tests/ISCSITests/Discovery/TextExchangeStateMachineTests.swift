// One Text Request/Response exchange (RFC 7143 §11.10, §11.11): the target's
// continuation, our own C-bit pieces, and the bounds that stop a looping target.

import NIOCore
import Testing

@testable import ISCSI

@Suite struct TextExchangeStateMachineTests {
    typealias Action = TextExchangeStateMachine.Action
    static let itt: UInt32 = 9
    static let cmdSN: UInt32 = 0x100

    private func configuration(
        immediate: Bool = true,
        segment: Int = 8192,
        limits: TextKeyLimits = .exchange,
        maximumRequests: Int = 256
    ) -> TextExchangeStateMachine.Configuration {
        .init(
            initiatorTaskTag: Self.itt,
            cmdSN: Self.cmdSN,
            expStatSN: 2,
            immediate: immediate,
            targetMaxRecvDataSegmentLength: segment,
            limits: limits,
            maximumRequests: maximumRequests,
            target: "portal 127.0.0.1:3260"
        )
    }

    private func request(
        ttt: UInt32 = reservedTag,
        final: Bool = true,
        continue: Bool = false,
        cmdSN: UInt32 = cmdSN,
        expStatSN: UInt32,
        _ data: ByteBuffer = ByteBuffer()
    ) -> Action {
        .sendTextRequest(
            TextRequest(
                immediate: true, final: final, continue: `continue`, initiatorTaskTag: Self.itt,
                targetTransferTag: ttt, cmdSN: cmdSN, expStatSN: expStatSN, data: data
            )
        )
    }

    private func response(
        final: Bool,
        continue: Bool = false,
        ttt: UInt32 = reservedTag,
        statSN: UInt32,
        expCmdSN: UInt32 = cmdSN,
        _ data: ByteBuffer = ByteBuffer()
    ) -> TextResponse {
        TextResponse(
            final: final, continue: `continue`, initiatorTaskTag: Self.itt, targetTransferTag: ttt,
            statSN: statSN, expCmdSN: expCmdSN, maxCmdSN: expCmdSN + 7, data: data
        )
    }

    private func expectFailure(_ action: Action, _ code: ISCSIError.Code, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard case .failed(let error) = action else {
            Issue.record("expected a failure, got \(action)", sourceLocation: sourceLocation)
            return
        }
        #expect(error.code == code, sourceLocation: sourceLocation)
        #expect(error.message.contains(fragment), "\(error.message)", sourceLocation: sourceLocation)
    }

    /// Shaped like istgt 0.4's real answer, captured from the Debian 12 package: one
    /// PDU, F=1, TTT 0xffffffff — and ExpCmdSN one past our CmdSN although the
    /// request was immediate. istgt reads the Text Request's I bit from the wrong
    /// bit of byte 0, so it treats every Text Request as non-immediate and advances
    /// ExpCmdSN and MaxCmdSN. libiscsi sends SendTargets immediate and keeps its
    /// CmdSN, then adopts the larger ExpCmdSN; its next PDU (the Logout) now has a
    /// CmdSN below ExpCmdSN, which libiscsi's writer refuses as an error. It drops
    /// the connection and tries to reconnect the discovery context, which has no
    /// target address to reconnect to ("Can not resolv into IPv4/v6"), and retries
    /// with back-off forever: iscsi-ls spins. We instead never let our CmdSN fall
    /// behind the target's ExpCmdSN.
    @Test func istgtLikeAnswerAdvancesOurNextCmdSN() {
        var sm = TextExchangeStateMachine(configuration: configuration(), text: [TextKeyValue("SendTargets", "All")])
        #expect(sm.start() == request(expStatSN: 2, text("SendTargets=All")))
        let answer = text("TargetName=iqn.2026-11.example.istgt:disk7", "TargetAddress=127.0.0.1:3290,1")
        let done = sm.receivedTextResponse(response(final: true, statSN: 2, expCmdSN: Self.cmdSN + 1, answer))
        #expect(
            done
                == .completed(
                    TextExchangeResult(
                        pairs: [
                            TextKeyValue("TargetName", "iqn.2026-11.example.istgt:disk7"),
                            TextKeyValue("TargetAddress", "127.0.0.1:3290,1"),
                        ],
                        expStatSN: 3,
                        expCmdSN: Self.cmdSN + 1,
                        maxCmdSN: Self.cmdSN + 8,
                        nextCmdSN: Self.cmdSN + 1
                    )
                )
        )
        #expect(sm.receivedTextResponse(response(final: true, statSN: 3)) == .wait)
    }

    @Test func compliantAnswerKeepsOurCmdSN() {
        var sm = TextExchangeStateMachine(configuration: configuration(), text: [TextKeyValue("SendTargets", "All")])
        _ = sm.start()
        guard case .completed(let result) = sm.receivedTextResponse(response(final: true, statSN: 2, text("TargetName=iqn.x")))
        else {
            Issue.record("not completed")
            return
        }
        #expect(result.nextCmdSN == Self.cmdSN)
    }

    @Test func targetContinuationIsFollowedUntilFinal() {
        var sm = TextExchangeStateMachine(configuration: configuration(), text: [TextKeyValue("SendTargets", "All")])
        _ = sm.start()
        // Split in the middle of a key (C=1), then a whole pair without F (C=0), then F=1.
        #expect(
            sm.receivedTextResponse(response(final: false, continue: true, ttt: 5, statSN: 2, ByteBuffer(string: "TargetNa")))
                == request(ttt: 5, expStatSN: 3)
        )
        #expect(
            sm.receivedTextResponse(
                response(final: false, ttt: 5, statSN: 3, ByteBuffer(bytes: Array("me=iqn.a".utf8) + [0]))
            ) == request(ttt: 5, expStatSN: 4)
        )
        #expect(
            sm.receivedTextResponse(response(final: true, statSN: 4, text("TargetAddress=10.0.0.1")))
                == .completed(
                    TextExchangeResult(
                        pairs: [TextKeyValue("TargetName", "iqn.a"), TextKeyValue("TargetAddress", "10.0.0.1")],
                        expStatSN: 5, expCmdSN: Self.cmdSN, maxCmdSN: Self.cmdSN + 7, nextCmdSN: Self.cmdSN
                    )
                )
        )
    }

    @Test func loopingTargetIsStoppedByTheRequestBound() {
        var sm = TextExchangeStateMachine(configuration: configuration(maximumRequests: 4), text: [TextKeyValue("SendTargets", "All")])
        _ = sm.start()
        for statSN: UInt32 in 2..<5 {
            #expect(sm.receivedTextResponse(response(final: false, ttt: 1, statSN: statSN)) == request(ttt: 1, expStatSN: statSN + 1))
        }
        expectFailure(
            sm.receivedTextResponse(response(final: false, ttt: 1, statSN: 5)), .protocolViolation,
            "target portal 127.0.0.1:3260 kept the text exchange going for more than 4 requests"
        )
    }

    @Test func oversizedAnswerIsStoppedByTheByteBound() {
        let limits = TextKeyLimits(largeValueKeys: [], maximumTotalLength: 64)
        var sm = TextExchangeStateMachine(configuration: configuration(limits: limits), text: [TextKeyValue("SendTargets", "All")])
        _ = sm.start()
        let chunk = text("TargetName=iqn.2026-11.example:" + String(repeating: "x", count: 10))
        #expect(sm.receivedTextResponse(response(final: false, ttt: 1, statSN: 2, chunk)) == request(ttt: 1, expStatSN: 3))
        expectFailure(sm.receivedTextResponse(response(final: false, ttt: 1, statSN: 3, chunk)), .protocolViolation, "grew to 84 bytes")
    }

    @Test func continuationWithoutATransferTagFails() {
        var sm = TextExchangeStateMachine(configuration: configuration(), text: [TextKeyValue("SendTargets", "All")])
        _ = sm.start()
        expectFailure(
            sm.receivedTextResponse(response(final: false, statSN: 2, text("TargetName=iqn.a"))), .protocolViolation,
            "has more text (F=0) but gave no Target Transfer Tag"
        )
    }

    @Test func badResponsesFail() {
        var sm = TextExchangeStateMachine(configuration: configuration(), text: [TextKeyValue("SendTargets", "All")])
        _ = sm.start()
        expectFailure(sm.receivedTextResponse(response(final: true, continue: true, statSN: 2)), .protocolViolation, "set both the F and the C bit")

        sm = TextExchangeStateMachine(configuration: configuration(), text: [TextKeyValue("SendTargets", "All")])
        _ = sm.start()
        var wrongTag = response(final: true, statSN: 2)
        wrongTag.initiatorTaskTag = 10
        expectFailure(sm.receivedTextResponse(wrongTag), .protocolViolation, "answered Initiator Task Tag 0xa for our 0x9")

        sm = TextExchangeStateMachine(configuration: configuration(), text: [TextKeyValue("SendTargets", "All")])
        _ = sm.start()
        expectFailure(sm.receivedTextResponse(response(final: true, statSN: 2, ByteBuffer(string: "garbage"))), .protocolViolation, "does not end with a NUL")

        sm = TextExchangeStateMachine(configuration: configuration(), text: [TextKeyValue("SendTargets", "All")])
        _ = sm.start()
        expectFailure(sm.receivedPDU(opcode: .reject), .rejected, "sent a Reject PDU instead of a Text Response")
        #expect(sm.receivedPDU(opcode: .nopIn) == .wait)
    }

    @Test func ourLongTextGoesOutInContinuedPieces() {
        let pairs = [TextKeyValue("X-a", "0123456789")]
        var sm = TextExchangeStateMachine(configuration: configuration(segment: 8), text: pairs)
        let pieces = TextSegmentSplitter.split(ByteBuffer(textKeyValues: pairs), maximumSegmentLength: 8)
        #expect(pieces.count == 2)
        #expect(sm.start() == request(final: false, continue: true, expStatSN: 2, pieces[0]))
        #expect(sm.receivedTextResponse(response(final: false, ttt: 3, statSN: 2)) == request(ttt: 3, expStatSN: 3, pieces[1]))
        #expect(
            sm.receivedTextResponse(response(final: true, statSN: 3, text("X-a=NotUnderstood")))
                == .completed(
                    TextExchangeResult(
                        pairs: [TextKeyValue("X-a", "NotUnderstood")], expStatSN: 4, expCmdSN: Self.cmdSN,
                        maxCmdSN: Self.cmdSN + 7, nextCmdSN: Self.cmdSN
                    )
                )
        )
    }

    @Test func nonImmediateRequestsUseUpCmdSNs() {
        var sm = TextExchangeStateMachine(configuration: configuration(immediate: false), text: [TextKeyValue("SendTargets", "All")])
        guard case .sendTextRequest(let first) = sm.start() else {
            Issue.record("no request")
            return
        }
        #expect(!first.immediate)
        #expect(first.cmdSN == Self.cmdSN)
        guard case .sendTextRequest(let second) = sm.receivedTextResponse(response(final: false, ttt: 1, statSN: 2)) else {
            Issue.record("no continuation")
            return
        }
        #expect(second.cmdSN == Self.cmdSN + 1)
        guard case .completed(let result) = sm.receivedTextResponse(response(final: true, statSN: 3, expCmdSN: Self.cmdSN + 2))
        else {
            Issue.record("not completed")
            return
        }
        #expect(result.nextCmdSN == Self.cmdSN + 2)
    }

    @Test func serialArithmeticWrapsAround() {
        #expect(TextExchangeStateMachine.serialMax(5, 3) == 5)
        #expect(TextExchangeStateMachine.serialMax(3, 5) == 5)
        #expect(TextExchangeStateMachine.serialMax(0xFFFF_FFFF, 0) == 0)
        #expect(TextExchangeStateMachine.serialMax(0, 0xFFFF_FFFF) == 0)
        #expect(TextExchangeStateMachine.serialMax(7, 7) == 7)
    }
}
