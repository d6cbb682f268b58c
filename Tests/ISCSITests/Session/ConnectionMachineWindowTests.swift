// InitiatorConnectionStateMachine: commands and the CmdSN window (RFC 7143 §3.2.2.1), event by event.

import NIOCore
import Testing

@testable import ISCSI

@Suite struct ConnectionMachineWindowTests {
    @Test func commandsTakeConsecutiveCmdSNsWhileTheWindowIsOpen() throws {
        var harness = try ConnectionMachineHarness(window: 32)
        let first = harness.execute(.read(blocks: 1))
        let second = harness.execute(.testUnitReady(lun: 3))

        let read = try #require(writtenCommand(first.action))
        #expect(read.cmdSN == Fixture.cmdSN)
        #expect(read.expStatSN == ConnectionMachineHarness.loginStatSN + 1)
        #expect(read.read && !read.write && read.final && !read.immediate)
        #expect(read.expectedDataTransferLength == 512)
        #expect(written(first.action).count == 1)
        let unitReady = try #require(writtenCommand(second.action))
        #expect(unitReady.cmdSN == Fixture.cmdSN + 1)
        #expect(unitReady.lun == ISCSIPDU.encodeLUN(3))
        #expect(unitReady.expectedDataTransferLength == 0)
        #expect(unitReady.initiatorTaskTag != read.initiatorTaskTag)
        #expect(harness.machine.window.cmdSN == SerialNumber(Fixture.cmdSN + 2))
    }

    @Test func aClosedWindowHoldsCommandsUntilAResponseOpensIt() throws {
        var harness = try ConnectionMachineHarness(window: 1)
        let first = harness.execute(.read(blocks: 1))
        let firstCommand = try #require(writtenCommand(first.action))
        #expect(!harness.machine.window.isOpen)

        // The window is full: both wait, in order, and a read burst that does not open it sends nothing.
        let second = harness.execute(.testUnitReady())
        let third = harness.execute(.read(blocks: 2))
        guard case .none = second.action, case .none = third.action else {
            Issue.record("commands went out through a closed window: \(second.action), \(third.action)")
            return
        }
        #expect(harness.readComplete().isEmpty)

        // A NOP-In that repeats the same window changes nothing.
        let same = harness.receive(.nopIn(NOPIn(initiatorTaskTag: reservedTag, statSN: harness.statSN, expCmdSN: Fixture.cmdSN, maxCmdSN: Fixture.cmdSN)))
        guard case .none = same else {
            Issue.record("a NOP-In without a ping did something: \(same)")
            return
        }
        #expect(harness.readComplete().isEmpty)

        // The response to the first command moves ExpCmdSN on and opens two slots.
        let response = harness.receive(harness.response(to: firstCommand.initiatorTaskTag, expCmdSN: Fixture.cmdSN + 1, window: 2))
        guard case .succeedCommand(let promise, let result) = response else {
            Issue.record("the response did not complete the command: \(response)")
            return
        }
        #expect(promise == first.promise)
        #expect(result.status == 0 && result.residual == .none)
        // A command submitted now queues behind those already waiting, though the window is open.
        let fourth = harness.execute(.testUnitReady(lun: 9))
        guard case .none = fourth.action else {
            Issue.record("a new command overtook the waiting ones: \(fourth.action)")
            return
        }
        let released = harness.readComplete()
        #expect(released.count == 2)
        let commands = released.compactMap { writtenCommand($0) }
        #expect(commands.map(\.cmdSN) == [Fixture.cmdSN + 1, Fixture.cmdSN + 2])
        #expect(commands.map(\.expectedDataTransferLength) == [0, 1024])
        // It acknowledged the response's StatSN.
        #expect(commands.allSatisfy { $0.expStatSN == ConnectionMachineHarness.loginStatSN + 2 })
        #expect(!harness.machine.window.isOpen)
        _ = harness.receive(harness.response(to: commands[0].initiatorTaskTag, expCmdSN: Fixture.cmdSN + 2, window: 2))
        #expect(harness.readComplete().compactMap { writtenCommand($0) }.map(\.lun) == [ISCSIPDU.encodeLUN(9)])
    }

    @Test func aWindowClosedAtLoginOpensOnANOPIn() throws {
        var harness = try ConnectionMachineHarness(window: 0)
        let command = harness.execute(.testUnitReady())
        guard case .none = command.action else {
            Issue.record("a command went out through a window closed at login: \(command.action)")
            return
        }
        #expect(harness.readComplete().isEmpty)
        _ = harness.receive(.nopIn(NOPIn(initiatorTaskTag: reservedTag, statSN: harness.statSN, expCmdSN: Fixture.cmdSN, maxCmdSN: Fixture.cmdSN)))
        let released = harness.readComplete()
        #expect(released.compactMap { writtenCommand($0) }.map(\.cmdSN) == [Fixture.cmdSN])
    }

    @Test func aCommandStillWaitingForTheWindowTimesOutWithoutAbort() throws {
        var harness = try ConnectionMachineHarness(window: 0)
        let command = harness.execute(.read(blocks: 1))
        let timeout = harness.submit(.timeOut(submissionID: command.id, after: .seconds(3)))
        guard case .failSubmission(let submission, let error) = timeout.action else {
            Issue.record("the waiting command did not fail: \(timeout.action)")
            return
        }
        #expect(submission.id == command.id)
        expectISCSIError(error, .timeout, .task, "not sent within 3.0 s", "192.0.2.1:3260 kept the command window closed")
        // Nothing is left to send once the window opens.
        _ = harness.receive(.nopIn(NOPIn(initiatorTaskTag: reservedTag, statSN: harness.statSN, expCmdSN: Fixture.cmdSN, maxCmdSN: Fixture.cmdSN &+ 7)))
        #expect(harness.readComplete().isEmpty)
    }

    @Test func aCancelledCommandLeavesTheWaitingQueue() throws {
        var harness = try ConnectionMachineHarness(window: 0)
        let first = harness.execute(.read(blocks: 1))
        let second = harness.execute(.testUnitReady())
        let cancel = harness.submit(.cancel(submissionID: first.id))
        guard case .failSubmission(let submission, let error) = cancel.action else {
            Issue.record("the cancelled command did not fail: \(cancel.action)")
            return
        }
        #expect(submission.id == first.id)
        expectISCSIError(error, .taskAborted, .task, "cancelled before it was sent")
        _ = harness.receive(.nopIn(NOPIn(initiatorTaskTag: reservedTag, statSN: harness.statSN, expCmdSN: Fixture.cmdSN, maxCmdSN: Fixture.cmdSN &+ 7)))
        let released = harness.readComplete()
        #expect(released.compactMap { writtenCommand($0) }.map(\.cdb) == [SCSITaskRequest.testUnitReady().cdb])
        _ = second
    }
}
