// InitiatorConnectionStateMachine: how the connection ends — the channel going inactive with work in
// flight and waiting, a failure, a logout, a close during login — and that nothing happens after.

import NIOCore
import NIOEmbedded
import Testing

@testable import ISCSI

@Suite struct ConnectionMachineCloseTests {
    @Test func goingInactiveFailsEveryTaskAndEveryWaitingSubmission() throws {
        var harness = try ConnectionMachineHarness(window: 2)
        let sent = [harness.execute(.read(blocks: 1)), harness.execute(.testUnitReady())]
        let waiting = harness.execute(.read(blocks: 8))
        guard case .none = waiting.action else {
            Issue.record("a third command went out through a window of two")
            return
        }
        let management = harness.promise(of: UInt8.self)
        _ = harness.submit(.taskManagement(.logicalUnitReset, lun: 0, submissionID: nil, management))
        let text = harness.promise(of: [TextKeyValue].self)
        _ = harness.submit(.text([TextKeyValue("SendTargets", "All")], text))
        let logout = harness.promise(of: Void.self)
        _ = harness.submit(.logout(logout))

        let ended = try #require(closure(harness.machine.channelInactive(readError: nil)))
        expectISCSIError(ended.error, .connectionClosed, .connection, "192.0.2.1:3260 closed the connection")
        #expect(ended.reportsLoss && !ended.closesChannel)
        guard case .settled = ended.login else {
            Issue.record("a closed full-feature connection touched the login: \(ended.login)")
            return
        }
        let commands = ended.failed.compactMap { reply -> EventLoopPromise<SCSITaskResult>? in
            if case .command(let promise) = reply { return promise }
            return nil
        }
        #expect(samePromises(commands, sent.map(\.promise)))
        #expect(ended.failed.contains { if case .taskManagement(let promise) = $0 { promise == management } else { false } })
        #expect(ended.failed.contains { if case .text(let promise) = $0 { promise == text } else { false } })
        #expect(ended.failed.count == 4)
        // The target closing after a logout request is the logout completing.
        #expect(ended.loggedOut == [logout])
        #expect(ended.waiting.map(\.id) == [waiting.id])

        // Afterwards: later work fails with the same error, PDUs and timers do nothing.
        let late = harness.execute(.testUnitReady())
        guard case .failSubmission(let submission, let error) = late.action else {
            Issue.record("work after the close was not refused: \(late.action)")
            return
        }
        #expect(submission.id == late.id)
        expectISCSIError(error, .connectionClosed, .connection, "closed the connection")
        guard case .none = harness.receive(harness.response(to: 1, expCmdSN: Fixture.cmdSN + 2)),
            case .none = harness.fireTimer(at: harness.now + .seconds(60)),
            case .none = harness.machine.channelInactive(readError: nil),
            case .none = harness.machine.handlerRemoved()
        else {
            Issue.record("a closed connection acted again")
            return
        }
        #expect(harness.machine.timerToArm() == nil)
        #expect(harness.readComplete().isEmpty)
    }

    @Test func whatTheDecoderSaidReplacesClosed() throws {
        var harness = try ConnectionMachineHarness()
        let read = harness.execute(.read(blocks: 1))
        let cut = ISCSIError(.malformedPDU, scope: .connection, "192.0.2.1:3260: the stream ended 20 bytes into a 48-byte header")
        let ended = try #require(closure(harness.machine.channelInactive(readError: cut)))
        expectISCSIError(ended.error, .malformedPDU, .connection, "20 bytes into a 48-byte header")
        #expect(failsExactly(ended.failed, commands: [read.promise]))
    }

    @Test func aFailureClosesTheChannelAndLogoutFailsUnlessTheTargetClosed() throws {
        var harness = try ConnectionMachineHarness()
        let read = harness.execute(.read(blocks: 1))
        let logout = harness.promise(of: Void.self)
        _ = harness.submit(.logout(logout))
        let ended = try #require(closure(harness.machine.fail(ISCSIError(.malformedPDU, scope: .connection, "bad header digest"))))
        #expect(ended.reportsLoss && ended.closesChannel)
        #expect(ended.loggedOut.isEmpty)
        #expect(ended.failed.count == 2)
        #expect(ended.failed.contains { if case .logout(let promise) = $0 { promise == logout } else { false } })
        #expect(ended.failed.contains { if case .command(let promise) = $0 { promise == read.promise } else { false } })
    }

    @Test func anAcceptedLogoutClosesTheSessionWithoutReportingALoss() throws {
        var harness = try ConnectionMachineHarness()
        let read = harness.execute(.read(blocks: 1))
        let logout = harness.promise(of: Void.self)
        guard case .write(.logoutRequest(let request)) = harness.submit(.logout(logout)).action else {
            Issue.record("no Logout Request went out")
            return
        }
        #expect(request.immediate && request.connectionID == 1 && request.cmdSN == Fixture.cmdSN + 1)
        let action = harness.receive(.logoutResponse(LogoutResponse(response: 0, initiatorTaskTag: request.initiatorTaskTag, statSN: harness.takeStatSN(), expCmdSN: Fixture.cmdSN + 1, maxCmdSN: Fixture.cmdSN + 32)))
        let ended = try #require(closure(action))
        expectISCSIError(ended.error, .sessionClosed, .session, "the session with 192.0.2.1:3260 was logged out")
        #expect(!ended.reportsLoss && ended.closesChannel)
        #expect(ended.loggedOut == [logout])
        #expect(failsExactly(ended.failed, commands: [read.promise]))
        // The channel going inactive afterwards reports nothing more.
        guard case .none = harness.machine.channelInactive(readError: nil) else {
            Issue.record("the close after a logout was reported again")
            return
        }
    }

    @Test func aRefusedLogoutFailsOnlyTheLogout() throws {
        var harness = try ConnectionMachineHarness()
        let logout = harness.promise(of: Void.self)
        guard case .write(.logoutRequest(let request)) = harness.submit(.logout(logout)).action else {
            Issue.record("no Logout Request went out")
            return
        }
        let action = harness.receive(.logoutResponse(LogoutResponse(response: 2, initiatorTaskTag: request.initiatorTaskTag, statSN: harness.takeStatSN(), expCmdSN: Fixture.cmdSN, maxCmdSN: Fixture.cmdSN + 31)))
        guard case .fail(.logout(let promise), let error) = action else {
            Issue.record("a refused logout did not fail: \(action)")
            return
        }
        #expect(promise == logout)
        expectISCSIError(error, .protocolViolation, .session, "refused the logout (response 2)")
        #expect(!harness.machine.isClosed)
    }

    /// (Closed while offering AuthMethod=None reads as "authentication required", LIO's way of refusing.)
    @Test func closingDuringLoginFailsTheLoginAndWhatWaitedForIt() throws {
        let loop = EmbeddedEventLoop()
        var machine = unstarted()
        guard case .write(.loginRequest) = machine.channelActive(now: Fixture.t0) else {
            Issue.record("no Login Request")
            return
        }
        #expect(machine.timerToArm() == Fixture.t0 + .seconds(15))
        let promise = loop.makePromise(of: SCSITaskResult.self)
        defer { promise.fail(PromiseKeeper.LeftOpen()) }
        guard case .none = machine.submitted(SubmissionQueue.Submission(id: 1, work: .command(.testUnitReady(), promise)), now: Fixture.t0) else {
            Issue.record("a command submitted during login did not wait")
            return
        }
        let ended = try #require(closure(machine.channelInactive(readError: nil)))
        expectISCSIError(ended.error, .authenticationFailed, .session, "closed the connection when offered AuthMethod=None")
        #expect(!ended.reportsLoss && !ended.closesChannel)
        guard case .failed = ended.login else {
            Issue.record("the login was not failed: \(ended.login)")
            return
        }
        #expect(ended.waiting.map(\.id) == [1])
    }

    @Test func aRedirectSettlesTheLoginWithTheNewPortal() throws {
        var machine = unstarted()
        _ = machine.channelActive(now: Fixture.t0)
        let redirect = Fixture.response(.securityNegotiation, transit: false, statSN: 10, statusClass: 1, statusDetail: 1, text("TargetAddress=192.0.2.9:3261,1"))
        let ended = try #require(closure(machine.received(.loginResponse(redirect), now: Fixture.t0)))
        expectISCSIError(ended.error, .redirected, .connection, "192.0.2.1:3260 redirected the login to 192.0.2.9:3261")
        #expect(!ended.closesChannel && !ended.reportsLoss)
        guard case .redirected(let portal, permanent: false) = ended.login else {
            Issue.record("the login was not redirected: \(ended.login)")
            return
        }
        #expect(portal == TargetPortal(host: "192.0.2.9", port: 3261))
    }

    /// A machine that has not started its login.
    private func unstarted() -> InitiatorConnectionStateMachine {
        InitiatorConnectionStateMachine(
            configuration: .init(login: Fixture.configuration(), keepaliveInterval: nil, keepaliveTimeout: .seconds(5), portal: ConnectionMachineHarness.portal),
            logger: .init(label: "vdisk.test.connection-machine")
        )
    }
}
