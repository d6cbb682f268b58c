// InitiatorConnectionStateMachine: Data-In with and without phase collapse, residuals, status and
// sense, and what answers for unknown tags do (RFC 7143 §11.4, §11.7).

import NIOCore
import Testing

@testable import ISCSI

@Suite struct ConnectionMachineDataInTests {
    private static func dataIn(
        tag: UInt32,
        dataSN: UInt32,
        offset: Int,
        _ data: ByteBuffer,
        status: UInt8? = nil,
        statSN: UInt32 = 0,
        underflow: UInt32? = nil,
        overflow: UInt32? = nil
    ) -> ISCSIPDU {
        .dataIn(DataIn(
            final: status != nil,
            residualOverflow: overflow != nil,
            residualUnderflow: underflow != nil,
            statusPresent: status != nil,
            status: status ?? 0,
            initiatorTaskTag: tag,
            statSN: statSN,
            expCmdSN: Fixture.cmdSN + 1,
            maxCmdSN: Fixture.cmdSN + 32,
            dataSN: dataSN,
            bufferOffset: UInt32(offset),
            residualCount: underflow ?? overflow ?? 0,
            data: data
        ))
    }

    private func expectSucceeded(
        _ action: InitiatorConnectionStateMachine.Action,
        _ promise: EventLoopPromise<SCSITaskResult>,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> SCSITaskResult? {
        guard case .succeedCommand(let completed, let result) = action, completed == promise else {
            Issue.record("expected the command to complete, got \(action)", sourceLocation: sourceLocation)
            return nil
        }
        return result
    }

    @Test func dataInThenASeparateSCSIResponse() throws {
        var harness = try ConnectionMachineHarness()
        let read = harness.execute(.read(blocks: 4))
        let tag = try #require(writtenCommand(read.action)).initiatorTaskTag
        let bytes = pattern(2048, seed: 3)

        // Without status a Data-In's StatSN field means nothing: a value there must not be acknowledged.
        let junk = harness.statSN &+ 100
        let first = harness.receive(Self.dataIn(tag: tag, dataSN: 0, offset: 0, bytes.getSlice(at: 0, length: 1024)!, statSN: junk))
        let second = harness.receive(Self.dataIn(tag: tag, dataSN: 1, offset: 1024, bytes.getSlice(at: 1024, length: 1024)!, statSN: junk))
        guard case .none = first, case .none = second else {
            Issue.record("Data-In without status did something: \(first), \(second)")
            return
        }
        let result = try #require(expectSucceeded(harness.receive(harness.response(to: tag, expCmdSN: Fixture.cmdSN + 1)), read.promise))
        #expect(result.status == 0 && result.residual == .none && result.senseData.isEmpty)
        #expect(result.data == bytes)
        let next = harness.execute(.testUnitReady())
        #expect(try #require(writtenCommand(next.action)).expStatSN == ConnectionMachineHarness.loginStatSN + 2)
    }

    @Test func statusInTheLastDataInCompletesTheRead() throws {
        var harness = try ConnectionMachineHarness()
        let read = harness.execute(.read(blocks: 2))
        let tag = try #require(writtenCommand(read.action)).initiatorTaskTag
        let bytes = pattern(1024, seed: 9)
        _ = harness.receive(Self.dataIn(tag: tag, dataSN: 0, offset: 0, bytes.getSlice(at: 0, length: 512)!))
        let last = harness.receive(Self.dataIn(
            tag: tag, dataSN: 1, offset: 512, bytes.getSlice(at: 512, length: 512)!, status: 0, statSN: harness.takeStatSN()
        ))
        let result = try #require(expectSucceeded(last, read.promise))
        #expect(result.data == bytes && result.residual == .none)
        // The status acknowledged its StatSN: the next command says so.
        let next = harness.execute(.testUnitReady())
        #expect(try #require(writtenCommand(next.action)).expStatSN == ConnectionMachineHarness.loginStatSN + 2)
        // The tag is gone: a late response for it is ignored.
        guard case .none = harness.receive(harness.response(to: tag, expCmdSN: Fixture.cmdSN + 2)) else {
            Issue.record("a response for a finished read did something")
            return
        }
    }

    @Test func underflowShortensTheDataAndOverflowIsReported() throws {
        var harness = try ConnectionMachineHarness()
        let short = harness.execute(.read(blocks: 4))
        let shortTag = try #require(writtenCommand(short.action)).initiatorTaskTag
        let bytes = pattern(1536)
        let collapsed = harness.receive(Self.dataIn(tag: shortTag, dataSN: 0, offset: 0, bytes, status: 0, statSN: harness.takeStatSN(), underflow: 512))
        let underflow = try #require(expectSucceeded(collapsed, short.promise))
        #expect(underflow.residual == .underflow(512))
        #expect(underflow.data == bytes)

        let long = harness.execute(.read(blocks: 1))
        let longTag = try #require(writtenCommand(long.action)).initiatorTaskTag
        _ = harness.receive(Self.dataIn(tag: longTag, dataSN: 0, offset: 0, pattern(512)))
        let overflow = try #require(expectSucceeded(harness.receive(harness.response(to: longTag, expCmdSN: Fixture.cmdSN + 2, overflow: 3584)), long.promise))
        #expect(overflow.residual == .overflow(3584))
        #expect(overflow.data == pattern(512))
    }

    @Test func checkConditionCarriesTheSense() throws {
        var harness = try ConnectionMachineHarness()
        let command = harness.execute(.testUnitReady())
        let tag = try #require(writtenCommand(command.action)).initiatorTaskTag
        let sense: [UInt8] = [0x70, 0, 0x06, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x29, 0x00, 0, 0, 0, 0]
        let result = try #require(expectSucceeded(harness.receive(harness.response(to: tag, status: 0x02, expCmdSN: Fixture.cmdSN + 1, sense: sense)), command.promise))
        #expect(result.status == 0x02 && !result.isGood)
        #expect(result.senseData == sense)
    }

    @Test func aTargetFailureFailsOnlyThatCommand() throws {
        var harness = try ConnectionMachineHarness()
        let command = harness.execute(.testUnitReady(lun: 4))
        let tag = try #require(writtenCommand(command.action)).initiatorTaskTag
        let action = harness.receive(harness.response(to: tag, expCmdSN: Fixture.cmdSN + 1, serviceResponse: 0x01))
        guard case .fail(.command(let promise), let error) = action else {
            Issue.record("a target failure did not fail the command: \(action)")
            return
        }
        #expect(promise == command.promise)
        expectISCSIError(error, .targetError, .task, "target failure (response 0x1) for TEST UNIT READY on LUN 4")
    }

    /// Today's rule: a SCSI Response or Data-In whose tag names no live task is ignored (it
    /// answers a task this side already ended); its window fields still count.
    @Test func answersForUnknownTagsAreIgnored() throws {
        var harness = try ConnectionMachineHarness(window: 1)
        let first = harness.execute(.testUnitReady())
        let tag = try #require(writtenCommand(first.action)).initiatorTaskTag
        let waiting = harness.execute(.testUnitReady())
        guard case .none = waiting.action else {
            Issue.record("the second command went out through a full window")
            return
        }
        let stray = harness.receive(harness.response(to: tag &+ 0x1_0000, expCmdSN: Fixture.cmdSN + 1, window: 1))
        guard case .none = stray else {
            Issue.record("a response for an unknown tag did something: \(stray)")
            return
        }
        let strayData = harness.receive(Self.dataIn(tag: 0x00FF_0042, dataSN: 0, offset: 0, pattern(512)))
        guard case .none = strayData else {
            Issue.record("Data-In for an unknown tag did something: \(strayData)")
            return
        }
        // The stray response opened the window and was acknowledged; the real command still waits for its answer.
        let released = harness.readComplete()
        let second = try #require(released.first.flatMap { writtenCommand($0) })
        #expect(second.cmdSN == Fixture.cmdSN + 1)
        #expect(second.expStatSN == ConnectionMachineHarness.loginStatSN + 2)
        _ = try #require(expectSucceeded(harness.receive(harness.response(to: tag, expCmdSN: Fixture.cmdSN + 2)), first.promise))
    }

    @Test func dataInOutOfOrderOrForAWriteEndsTheConnection() throws {
        var harness = try ConnectionMachineHarness()
        let read = harness.execute(.read(blocks: 2))
        let tag = try #require(writtenCommand(read.action)).initiatorTaskTag
        let gap = harness.receive(Self.dataIn(tag: tag, dataSN: 0, offset: 512, pattern(512)))
        let ended = try #require(closure(gap))
        expectISCSIError(ended.error, .protocolViolation, .connection, "starts at buffer offset 512, expected 0")
        #expect(failsExactly(ended.failed, commands: [read.promise]))

        var other = try ConnectionMachineHarness()
        let unitReady = other.execute(.testUnitReady())
        let unitReadyTag = try #require(writtenCommand(unitReady.action)).initiatorTaskTag
        let unexpected = try #require(closure(other.receive(Self.dataIn(tag: unitReadyTag, dataSN: 0, offset: 0, pattern(512)))))
        expectISCSIError(unexpected.error, .protocolViolation, .connection, "(TEST UNIT READY), which reads no data")
    }
}
