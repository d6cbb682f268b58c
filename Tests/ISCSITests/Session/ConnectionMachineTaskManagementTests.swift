// InitiatorConnectionStateMachine: which tasks ABORT TASK, LUN RESET and TARGET WARM RESET end, and with
// what error (RFC 7143 §11.5, §11.6).

import NIOCore
import Testing

@testable import ISCSI

@Suite struct ConnectionMachineTaskManagementTests {
    private func request(_ action: InitiatorConnectionStateMachine.Action, sourceLocation: SourceLocation = #_sourceLocation) -> TaskManagementRequest? {
        guard case .write(.taskManagementRequest(let request)) = action else {
            Issue.record("expected a Task Management Request, got \(action)", sourceLocation: sourceLocation)
            return nil
        }
        return request
    }

    private func completion(
        _ action: InitiatorConnectionStateMachine.Action,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> (promise: EventLoopPromise<UInt8>?, response: UInt8, ended: [InitiatorConnectionStateMachine.EndedCommand])? {
        guard case .completeTaskManagement(let promise, let response, let ended) = action else {
            Issue.record("expected the function to complete, got \(action)", sourceLocation: sourceLocation)
            return nil
        }
        return (promise, response, ended)
    }

    @Test func abortTaskEndsExactlyTheReferencedCommand() throws {
        var harness = try ConnectionMachineHarness()
        let victim = harness.execute(.read(blocks: 1))
        let bystander = harness.execute(.read(blocks: 1))
        let victimCommand = try #require(writtenCommand(victim.action))
        let promise = harness.promise(of: UInt8.self)
        let abort = try #require(request(harness.submit(.taskManagement(.abortTask, lun: 0, submissionID: victim.id, promise)).action))
        #expect(abort.function == .abortTask && abort.immediate)
        #expect(abort.referencedTaskTag == victimCommand.initiatorTaskTag)
        #expect(abort.refCmdSN == victimCommand.cmdSN)
        #expect(abort.cmdSN == Fixture.cmdSN + 2, "an immediate PDU carries the next CmdSN without taking it")

        let done = try #require(completion(harness.receive(harness.taskManagementResponse(to: abort.initiatorTaskTag, .functionComplete, expCmdSN: Fixture.cmdSN + 2))))
        #expect(done.promise == promise && done.response == 0)
        #expect(done.ended.map(\.promise) == [victim.promise])
        expectISCSIError(done.ended[0].error, .taskAborted, .task, "READ(10) on LUN 0 was ended by ABORT TASK")

        let bystanderTag = try #require(writtenCommand(bystander.action)).initiatorTaskTag
        guard case .succeedCommand(let survivor, _) = harness.receive(harness.response(to: bystanderTag, expCmdSN: Fixture.cmdSN + 2)) else {
            Issue.record("the other command was ended too")
            return
        }
        #expect(survivor == bystander.promise)
    }

    @Test func taskDoesNotExistStillEndsTheAbortedCommandButARefusalDoesNot() throws {
        var harness = try ConnectionMachineHarness()
        let first = harness.execute(.read(blocks: 1))
        let second = harness.execute(.read(blocks: 1))
        let firstAbort = try #require(request(harness.submit(.taskManagement(.abortTask, lun: 0, submissionID: first.id, harness.promise())).action))
        let gone = try #require(completion(harness.receive(harness.taskManagementResponse(to: firstAbort.initiatorTaskTag, .taskDoesNotExist, expCmdSN: Fixture.cmdSN + 2))))
        #expect(gone.response == TaskManagementResponseCode.taskDoesNotExist.rawValue)
        #expect(gone.ended.map(\.promise) == [first.promise])

        let secondAbort = try #require(request(harness.submit(.taskManagement(.abortTask, lun: 0, submissionID: second.id, harness.promise())).action))
        let refused = try #require(completion(harness.receive(harness.taskManagementResponse(to: secondAbort.initiatorTaskTag, .functionRejected, expCmdSN: Fixture.cmdSN + 2))))
        #expect(refused.response == 255 && refused.ended.isEmpty)
    }

    @Test func abortingAFinishedCommandAnswersAtOnce() throws {
        var harness = try ConnectionMachineHarness()
        let command = harness.execute(.testUnitReady())
        let tag = try #require(writtenCommand(command.action)).initiatorTaskTag
        _ = harness.receive(harness.response(to: tag, expCmdSN: Fixture.cmdSN + 1))
        let promise = harness.promise(of: UInt8.self)
        let answer = try #require(completion(harness.submit(.taskManagement(.abortTask, lun: 0, submissionID: command.id, promise)).action))
        #expect(answer.promise == promise)
        #expect(answer.response == TaskManagementResponseCode.taskDoesNotExist.rawValue && answer.ended.isEmpty)
    }

    @Test func lunResetEndsEveryCommandOnThatLUNOnly() throws {
        var harness = try ConnectionMachineHarness()
        let onOne = [harness.execute(.read(blocks: 1, lun: 1)), harness.execute(.testUnitReady(lun: 1))]
        let onTwo = harness.execute(.read(blocks: 1, lun: 2))
        let promise = harness.promise(of: UInt8.self)
        let reset = try #require(request(harness.submit(.taskManagement(.logicalUnitReset, lun: 1, submissionID: nil, promise)).action))
        #expect(reset.lun == ISCSIPDU.encodeLUN(1) && reset.referencedTaskTag == reservedTag && reset.refCmdSN == 0)

        let done = try #require(completion(harness.receive(harness.taskManagementResponse(to: reset.initiatorTaskTag, .functionComplete, expCmdSN: Fixture.cmdSN + 3))))
        #expect(done.promise == promise)
        #expect(samePromises(done.ended.map(\.promise), onOne.map(\.promise)))
        for ended in done.ended {
            expectISCSIError(ended.error, .taskAborted, .task, "on LUN 1 was ended by LOGICAL UNIT RESET")
        }
        let survivorTag = try #require(writtenCommand(onTwo.action)).initiatorTaskTag
        guard case .succeedCommand = harness.receive(harness.response(to: survivorTag, expCmdSN: Fixture.cmdSN + 3)) else {
            Issue.record("the command on LUN 2 was ended by a reset of LUN 1")
            return
        }
    }

    @Test func aFailedResetEndsNothingAndTargetResetEndsAll() throws {
        var harness = try ConnectionMachineHarness()
        let commands = [harness.execute(.read(blocks: 1, lun: 1)), harness.execute(.read(blocks: 1, lun: 5))]
        let failed = try #require(request(harness.submit(.taskManagement(.logicalUnitReset, lun: 1, submissionID: nil, harness.promise())).action))
        let notDone = try #require(completion(harness.receive(harness.taskManagementResponse(to: failed.initiatorTaskTag, .functionNotSupported, expCmdSN: Fixture.cmdSN + 2))))
        #expect(notDone.response == TaskManagementResponseCode.functionNotSupported.rawValue && notDone.ended.isEmpty)

        let warm = try #require(request(harness.submit(.taskManagement(.targetWarmReset, lun: 0, submissionID: nil, harness.promise())).action))
        let done = try #require(completion(harness.receive(harness.taskManagementResponse(to: warm.initiatorTaskTag, .functionComplete, expCmdSN: Fixture.cmdSN + 2))))
        #expect(samePromises(done.ended.map(\.promise), commands.map(\.promise)))
        expectISCSIError(done.ended[0].error, .taskAborted, .task, "was ended by TARGET WARM RESET")
    }

    @Test func cancellingASentCommandAbortsItWithNobodyWaiting() throws {
        var harness = try ConnectionMachineHarness()
        let command = harness.execute(.read(blocks: 1))
        let tag = try #require(writtenCommand(command.action)).initiatorTaskTag
        let abort = try #require(request(harness.submit(.cancel(submissionID: command.id)).action))
        #expect(abort.function == .abortTask && abort.referencedTaskTag == tag)
        let done = try #require(completion(harness.receive(harness.taskManagementResponse(to: abort.initiatorTaskTag, .functionComplete, expCmdSN: Fixture.cmdSN + 1))))
        #expect(done.promise == nil)
        #expect(done.ended.map(\.promise) == [command.promise])
        expectISCSIError(done.ended[0].error, .taskAborted, .task, "ended by ABORT TASK")
    }
}
