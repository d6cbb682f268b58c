// InitiatorConnectionStateMachine on a manual clock: a command timeout escalating to ABORT TASK and then
// to dropping the connection, and the NOP-Out keepalive (RFC 7143 §11.18, §11.19).

import NIOCore
import Testing

@testable import ISCSI

@Suite struct ConnectionMachineTimerTests {
    private static let after = TimeAmount.seconds(2)
    private static let tick = TimeAmount.nanoseconds(1)

    /// A sent READ that times out: the machine answers with ABORT TASK and a deadline `after` away.
    private func timedOutRead(_ harness: inout ConnectionMachineHarness) throws -> (promise: EventLoopPromise<SCSITaskResult>, tag: UInt32, abort: TaskManagementRequest) {
        let read = harness.execute(.read(blocks: 1))
        let tag = try #require(writtenCommand(read.action)).initiatorTaskTag
        harness.now = Fixture.t0 + .seconds(30)
        let action = harness.submit(.timeOut(submissionID: read.id, after: Self.after)).action
        guard case .write(.taskManagementRequest(let abort)) = action else {
            throw ConnectionMachineHarness.HarnessError.expected("ABORT TASK after the timeout, got \(action)")
        }
        #expect(abort.function == .abortTask && abort.referencedTaskTag == tag)
        #expect(harness.machine.timerToArm() == harness.now + Self.after)
        return (read.promise, tag, abort)
    }

    @Test func anUnansweredAbortDropsTheConnectionAtItsDeadline() throws {
        var harness = try ConnectionMachineHarness()
        let other = harness.execute(.testUnitReady())
        let (promise, _, _) = try timedOutRead(&harness)
        let deadline = harness.now + Self.after

        guard case .none = harness.fireTimer(at: deadline - Self.tick) else {
            Issue.record("the connection dropped before the abort's deadline")
            return
        }
        let ended = try #require(closure(harness.fireTimer(at: deadline)))
        expectISCSIError(ended.error, .timeout, .connection, "192.0.2.1:3260 answered neither READ(10) on LUN 0 nor its ABORT TASK within 2.0 s each")
        #expect(ended.reportsLoss && ended.closesChannel)
        #expect(failsExactly(ended.failed, commands: [promise, other.promise]))
        #expect(harness.machine.timerToArm() == nil)
    }

    @Test func anAnsweredAbortFailsTheCommandWithTheTimeout() throws {
        var harness = try ConnectionMachineHarness()
        let (promise, _, abort) = try timedOutRead(&harness)
        harness.now = harness.now + .seconds(1)
        let action = harness.receive(harness.taskManagementResponse(to: abort.initiatorTaskTag, .functionComplete, expCmdSN: Fixture.cmdSN + 1))
        guard case .completeTaskManagement(nil, 0, let ended) = action else {
            Issue.record("the abort did not complete: \(action)")
            return
        }
        #expect(ended.map(\.promise) == [promise])
        expectISCSIError(ended[0].error, .timeout, .task, "READ(10) on LUN 0 was not answered within 2.0 s and was aborted")
        // The abort's deadline is gone with it: nothing to arm, and a late timer does nothing.
        #expect(harness.machine.timerToArm() == nil)
        guard case .none = harness.fireTimer(at: harness.now + .seconds(5)) else {
            Issue.record("a late timer acted after the abort was answered")
            return
        }
    }

    @Test func aRefusedAbortDropsTheConnection() throws {
        var harness = try ConnectionMachineHarness()
        let (promise, _, abort) = try timedOutRead(&harness)
        let action = harness.receive(harness.taskManagementResponse(to: abort.initiatorTaskTag, .functionRejected, expCmdSN: Fixture.cmdSN + 1))
        let ended = try #require(closure(action))
        expectISCSIError(ended.error, .timeout, .connection, "refused to abort READ(10) on LUN 0, unanswered for 2.0 s")
        #expect(ended.reportsLoss && ended.closesChannel)
        #expect(failsExactly(ended.failed, commands: [promise]))
    }

    @Test func theKeepalivePingsAfterSilenceAndAnAnswerKeepsTheConnection() throws {
        var harness = try ConnectionMachineHarness(keepaliveInterval: .seconds(5), keepaliveTimeout: .seconds(5))
        #expect(harness.machine.timerToArm() == Fixture.t0 + .seconds(5))
        #expect(harness.machine.timerToArm() == nil, "an armed timer is not armed again")
        let read = harness.execute(.read(blocks: 1))
        let command = try #require(writtenCommand(read.action))

        guard case .none = harness.fireTimer(at: Fixture.t0 + .seconds(5) - Self.tick) else {
            Issue.record("a ping before the interval passed")
            return
        }
        guard case .write(.nopOut(let ping)) = harness.fireTimer(at: Fixture.t0 + .seconds(5)) else {
            Issue.record("no NOP-Out after 5 s of silence")
            return
        }
        #expect(ping.immediate && ping.initiatorTaskTag != reservedTag && ping.targetTransferTag == reservedTag)
        #expect(ping.cmdSN == command.cmdSN + 1)
        #expect(harness.machine.timerToArm() == Fixture.t0 + .seconds(10))

        harness.now = Fixture.t0 + .seconds(6)
        let answer = harness.receive(.nopIn(NOPIn(initiatorTaskTag: ping.initiatorTaskTag, statSN: harness.statSN, expCmdSN: Fixture.cmdSN + 1, maxCmdSN: Fixture.cmdSN + 32)))
        guard case .none = answer else {
            Issue.record("the ping's answer did something: \(answer)")
            return
        }
        // At the ping's deadline the target has answered: the next ping is due 5 s after the answer.
        guard case .none = harness.fireTimer(at: Fixture.t0 + .seconds(10)) else {
            Issue.record("the answered ping timed out")
            return
        }
        #expect(harness.machine.timerToArm() == Fixture.t0 + .seconds(11))
    }

    @Test func anUnansweredPingDropsTheConnection() throws {
        var harness = try ConnectionMachineHarness(keepaliveInterval: .seconds(5), keepaliveTimeout: .seconds(5))
        let read = harness.execute(.read(blocks: 1))
        guard case .write(.nopOut) = harness.fireTimer(at: Fixture.t0 + .seconds(5)) else {
            Issue.record("no NOP-Out after 5 s of silence")
            return
        }
        guard case .none = harness.fireTimer(at: Fixture.t0 + .seconds(10) - Self.tick) else {
            Issue.record("the ping timed out early")
            return
        }
        let ended = try #require(closure(harness.fireTimer(at: Fixture.t0 + .seconds(10))))
        expectISCSIError(ended.error, .timeout, .connection, "did not answer a NOP-Out ping; nothing received for 10.0 s")
        #expect(ended.reportsLoss && ended.closesChannel)
        #expect(failsExactly(ended.failed, commands: [read.promise]))
    }

    @Test func aTargetPingIsAnsweredOnlyWhenItAsksForAnAnswer() throws {
        var harness = try ConnectionMachineHarness()
        var payload = ByteBuffer()
        payload.writeString("echo me")
        let asked = harness.receive(.nopIn(NOPIn(lun: 3, initiatorTaskTag: reservedTag, targetTransferTag: 0x55, statSN: harness.statSN, expCmdSN: Fixture.cmdSN, maxCmdSN: Fixture.cmdSN + 31, data: payload)))
        guard case .write(.nopOut(let reply)) = asked else {
            Issue.record("the target's ping went unanswered: \(asked)")
            return
        }
        #expect(reply.initiatorTaskTag == reservedTag && reply.targetTransferTag == 0x55)
        #expect(reply.lun == 3 && reply.data == payload && reply.immediate)
        #expect(reply.cmdSN == Fixture.cmdSN && reply.expStatSN == ConnectionMachineHarness.loginStatSN + 1)
        let unasked = harness.receive(.nopIn(NOPIn(initiatorTaskTag: reservedTag, statSN: harness.statSN, expCmdSN: Fixture.cmdSN, maxCmdSN: Fixture.cmdSN + 31)))
        guard case .none = unasked else {
            Issue.record("a NOP-In that asked for nothing was answered: \(unasked)")
            return
        }
    }
}
