// InitiatorConnectionStateMachine: a Reject (RFC 7143 §11.17) ends the task whose PDU it quotes, with the
// reason in the error; one quoting no live task is only logged.

import NIOCore
import Testing

@testable import ISCSI

@Suite struct ConnectionMachineRejectTests {
    static let reasons: [RejectReason] = [
        .dataDigestError, .snackReject, .protocolError, .commandNotSupported, .immediateCommandRejected,
        .taskInProgress, .invalidDataACK, .invalidPDUField, .longOperationReject, .deprecated, .waitingForLogout,
    ]

    @Test(arguments: reasons)
    func aRejectedCommandFailsWithTheReason(_ reason: RejectReason) throws {
        var harness = try ConnectionMachineHarness()
        let rejected = harness.execute(.vendorCommand)
        let other = harness.execute(.testUnitReady())
        let tag = try #require(writtenCommand(rejected.action)).initiatorTaskTag
        let action = harness.receive(harness.reject(reason.rawValue, quoting: tag, expCmdSN: Fixture.cmdSN + 2))
        guard case .fail(.command(let promise), let error) = action else {
            Issue.record("the reject did not fail the command: \(action)")
            return
        }
        #expect(promise == rejected.promise)
        expectISCSIError(error, .rejected, .task, "192.0.2.1:3260 rejected VENDOR 0xC1: \(reason.description)")
        // Only that task ended; the other still completes.
        let otherTag = try #require(writtenCommand(other.action)).initiatorTaskTag
        guard case .succeedCommand(let otherPromise, _) = harness.receive(harness.response(to: otherTag, expCmdSN: Fixture.cmdSN + 2)) else {
            Issue.record("the other command did not complete")
            return
        }
        #expect(otherPromise == other.promise)
    }

    @Test func anUnknownReasonCodeIsNamedByNumber() throws {
        var harness = try ConnectionMachineHarness()
        let command = harness.execute(.vendorCommand)
        let tag = try #require(writtenCommand(command.action)).initiatorTaskTag
        guard case .fail(.command, let error) = harness.receive(harness.reject(0x7E, quoting: tag, expCmdSN: Fixture.cmdSN + 1)) else {
            Issue.record("the reject did not fail the command")
            return
        }
        expectISCSIError(error, .rejected, .task, "rejected VENDOR 0xC1: reason 0x7e")
    }

    @Test func rejectedTaskManagementTextAndLogoutFailTheirCaller() throws {
        var harness = try ConnectionMachineHarness()
        let command = harness.execute(.read(blocks: 1))
        let management = harness.promise(of: UInt8.self)
        let reset = harness.submit(.taskManagement(.logicalUnitReset, lun: 0, submissionID: nil, management))
        guard case .write(.taskManagementRequest(let request)) = reset.action else {
            Issue.record("no LUN RESET went out: \(reset.action)")
            return
        }
        let action = harness.receive(harness.reject(RejectReason.immediateCommandRejected.rawValue, quoting: request.initiatorTaskTag, expCmdSN: Fixture.cmdSN + 1))
        guard case .fail(.taskManagement(let promise), let error) = action else {
            Issue.record("the rejected LUN RESET did not fail: \(action)")
            return
        }
        #expect(promise == management)
        expectISCSIError(error, .rejected, .task, "rejected the PDU: immediate command rejected")

        let textPromise = harness.promise(of: [TextKeyValue].self)
        guard case .write(.textRequest(let text)) = harness.submit(.text([TextKeyValue("SendTargets", "All")], textPromise)).action else {
            Issue.record("no Text Request went out")
            return
        }
        guard case .fail(.text(let rejectedText), let textError) = harness.receive(harness.reject(RejectReason.protocolError.rawValue, quoting: text.initiatorTaskTag, expCmdSN: Fixture.cmdSN + 1)) else {
            Issue.record("the rejected Text Request did not fail")
            return
        }
        #expect(rejectedText == textPromise)
        expectISCSIError(textError, .rejected, .task, "rejected the PDU: protocol error")

        let logoutPromise = harness.promise(of: Void.self)
        guard case .write(.logoutRequest(let logout)) = harness.submit(.logout(logoutPromise)).action else {
            Issue.record("no Logout Request went out")
            return
        }
        guard case .fail(.logout(let rejectedLogout), let logoutError) = harness.receive(harness.reject(RejectReason.waitingForLogout.rawValue, quoting: logout.initiatorTaskTag, expCmdSN: Fixture.cmdSN + 1)) else {
            Issue.record("the rejected Logout Request did not fail")
            return
        }
        #expect(rejectedLogout == logoutPromise)
        expectISCSIError(logoutError, .rejected, .task, "rejected the PDU: waiting for logout")

        // The read was never touched.
        let tag = try #require(writtenCommand(command.action)).initiatorTaskTag
        guard case .succeedCommand = harness.receive(harness.response(to: tag, expCmdSN: Fixture.cmdSN + 1)) else {
            Issue.record("the read did not complete after the rejects")
            return
        }
    }

    @Test func rejectsQuotingNoLiveTaskOnlyMoveTheWindow() throws {
        var harness = try ConnectionMachineHarness(window: 1)
        let command = harness.execute(.read(blocks: 1))
        let tag = try #require(writtenCommand(command.action)).initiatorTaskTag
        let waiting = harness.execute(.testUnitReady())
        guard case .none = waiting.action else {
            Issue.record("a command went out through a full window")
            return
        }
        // A reserved tag (a rejected SNACK or immediate NOP), a stale tag, and a Reject too short to quote a header.
        let reserved = harness.receive(harness.reject(RejectReason.protocolError.rawValue, quoting: reservedTag, expCmdSN: Fixture.cmdSN))
        let stale = harness.receive(harness.reject(RejectReason.invalidPDUField.rawValue, quoting: tag &+ 0x1_0000, expCmdSN: Fixture.cmdSN))
        let short = harness.receive(.reject(Reject(reason: RejectReason.protocolError.rawValue, statSN: harness.takeStatSN(), expCmdSN: Fixture.cmdSN + 1, maxCmdSN: Fixture.cmdSN + 1, data: ByteBuffer(repeating: 0, count: 12))))
        for action in [reserved, stale, short] {
            guard case .none = action else {
                Issue.record("a reject of no live task did something: \(action)")
                return
            }
        }
        // The last one opened the window.
        #expect(harness.readComplete().compactMap { writtenCommand($0) }.map(\.cmdSN) == [Fixture.cmdSN + 1])
        guard case .succeedCommand(let promise, _) = harness.receive(harness.response(to: tag, expCmdSN: Fixture.cmdSN + 2)) else {
            Issue.record("the read did not survive the rejects")
            return
        }
        #expect(promise == command.promise)
    }

    @Test func aRejectedPingEndsOnlyThePing() throws {
        var harness = try ConnectionMachineHarness(keepaliveInterval: .seconds(5))
        guard case .write(.nopOut(let ping)) = harness.fireTimer(at: Fixture.t0 + .seconds(5)) else {
            Issue.record("no ping after the interval")
            return
        }
        harness.now = Fixture.t0 + .seconds(7)
        let action = harness.receive(harness.reject(RejectReason.protocolError.rawValue, quoting: ping.initiatorTaskTag, expCmdSN: Fixture.cmdSN))
        guard case .none = action else {
            Issue.record("a rejected ping did something: \(action)")
            return
        }
        // The reject itself proved the target alive: no timeout at the ping's deadline.
        guard case .none = harness.fireTimer(at: Fixture.t0 + .seconds(10)) else {
            Issue.record("the keepalive timed out although the target answered")
            return
        }
        #expect(harness.machine.timerToArm() == Fixture.t0 + .seconds(12))
    }
}
