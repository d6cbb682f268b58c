// What a target says besides "GOOD": async events, Reject, residuals, sense data,
// phase-collapsed status and its own NOP-In pings, each reaching the caller intact.

import ISCSI
import NIOCore
import Testing

@Suite struct FakeTargetResponseTests {
    /// Fixed-format sense: UNIT ATTENTION, CAPACITY DATA HAS CHANGED (2A/09).
    static let capacityChanged: [UInt8] = [
        0x70, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x0A, 0x00, 0x00, 0x00, 0x00, 0x2A, 0x09, 0x00, 0x00, 0x00, 0x00,
    ]

    /// A data segment holding SenseLength and then `sense` (RFC 7143 §11.4.7.2).
    static func senseSegment(_ sense: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt16(sense.count))
        buffer.writeBytes(sense)
        return buffer
    }

    // MARK: Asynchronous messages

    struct AsyncCase: Sendable, CustomStringConvertible {
        var description: String
        var message: AsyncMessage
        var event: ISCSISessionEvent
    }

    static let asyncCases: [AsyncCase] = [
        AsyncCase(
            description: "SCSI async event (unit attention)",
            message: AsyncMessage(
                lun: ISCSIPDU.encodeLUN(3),
                statSN: 0,
                expCmdSN: 0,
                maxCmdSN: 0,
                asyncEvent: AsyncEvent.scsiAsyncEvent.rawValue,
                data: senseSegment(capacityChanged)
            ),
            event: .unitAttention(lun: 3, senseData: capacityChanged)
        ),
        AsyncCase(
            description: "logout requested",
            message: AsyncMessage(statSN: 0, expCmdSN: 0, maxCmdSN: 0, asyncEvent: AsyncEvent.logoutRequested.rawValue, parameter3: 10),
            event: .logoutRequested(withinSeconds: 10)
        ),
        AsyncCase(
            description: "connection drop announced",
            message: AsyncMessage(
                statSN: 0,
                expCmdSN: 0,
                maxCmdSN: 0,
                asyncEvent: AsyncEvent.connectionDropped.rawValue,
                parameter1: 0,
                parameter2: 2,
                parameter3: 20
            ),
            event: .connectionDropAnnounced(time2Wait: 2, time2Retain: 20)
        ),
    ]

    @Test(arguments: asyncCases)
    func asyncMessageBecomesASessionEvent(_ asyncCase: AsyncCase) async throws {
        try await FakeTarget.run { fake in
            let session = try await ISCSISession.connect(fake.configuration())
            let events = SessionEventRecorder(session)
            try await fake.perform { connection in connection.send(.asyncMessage(asyncCase.message)) }
            let event = try await events.first(asyncCase.description) { $0 == asyncCase.event ? $0 : nil }
            #expect(event == asyncCase.event)
            // An announcement is not a failure: the session still works.
            let result = try await BoundedWait.run("a command after the event", within: BoundedWait.hangGuard) {
                try await session.execute(.testUnitReady())
            }
            #expect(result.isGood)
            #expect(events.all == [asyncCase.event])
            await session.close()
        }
    }

    // MARK: Reject

    @Test func rejectFailsOnlyThatCommand() async throws {
        let script: FakeTarget.Script = { pdu, connection in
            if case .scsiCommand(let command) = pdu, command.cdb.first == 0xC1 {
                connection.reject(pdu, reason: .commandNotSupported)
            } else {
                connection.respondNormally(to: pdu)
            }
        }
        try await FakeTarget.run(script: script) { fake in
            let session = try await ISCSISession.connect(fake.configuration())
            let events = SessionEventRecorder(session)
            let error = try await BoundedWait.error("the rejected command", within: BoundedWait.hangGuard) {
                _ = try await session.execute(.vendorCommand)
            }
            expectISCSIError(error, .rejected, .task, "rejected VENDOR 0xC1", "command not supported")

            let result = try await BoundedWait.run("a command after the reject", within: BoundedWait.hangGuard) {
                try await session.execute(.read(blocks: 2))
            }
            #expect(result.isGood)
            #expect(Array(buffer: result.data) == FakeTargetConnection.pattern(length: 1024))
            #expect(events.all.isEmpty)
            await session.close()
        }
    }

    @Test func targetFailureFailsOnlyThatCommand() async throws {
        let script: FakeTarget.Script = { pdu, connection in
            guard case .scsiCommand(let command) = pdu, command.read else { return connection.respondNormally(to: pdu) }
            connection.send(.scsiResponse(SCSIResponse(
                response: ISCSIServiceResponse.targetFailure.rawValue,
                status: 0,
                initiatorTaskTag: command.initiatorTaskTag,
                statSN: 0,
                expCmdSN: 0,
                maxCmdSN: 0
            )))
        }
        try await FakeTarget.run(script: script) { fake in
            let session = try await ISCSISession.connect(fake.configuration())
            let error = try await BoundedWait.error("the READ the target failed", within: BoundedWait.hangGuard) {
                _ = try await session.execute(.read(blocks: 1, lun: 1))
            }
            expectISCSIError(error, .targetError, .task, "reported a target failure (response 0x1) for READ(10) on LUN 1")
            let result = try await BoundedWait.run("a command after the failure", within: BoundedWait.hangGuard) {
                try await session.execute(.testUnitReady())
            }
            #expect(result.isGood)
            await session.close()
        }
    }

    // MARK: Status, residuals, sense

    /// Runs one READ of `blocks` against a target whose only answer is `answer`.
    private func read(blocks: Int, answer: @escaping @Sendable (SCSICommand, FakeTargetConnection) -> Void) async throws -> SCSITaskResult {
        let script: FakeTarget.Script = { pdu, connection in
            if case .scsiCommand(let command) = pdu { answer(command, connection) } else { connection.respondNormally(to: pdu) }
        }
        return try await FakeTarget.run(script: script) { fake in
            let session = try await ISCSISession.connect(fake.configuration())
            let result = try await BoundedWait.run("the READ", within: BoundedWait.hangGuard) {
                try await session.execute(.read(blocks: blocks))
            }
            await session.close()
            return result
        }
    }

    @Test func residualUnderflowShortensTheData() async throws {
        let result = try await read(blocks: 8) { command, connection in
            connection.send(.dataIn(DataIn(
                final: true,
                residualUnderflow: true,
                statusPresent: true,
                initiatorTaskTag: command.initiatorTaskTag,
                expCmdSN: 0,
                maxCmdSN: 0,
                dataSN: 0,
                bufferOffset: 0,
                residualCount: 3072,
                data: ByteBuffer(bytes: FakeTargetConnection.pattern(length: 1024))
            )))
        }
        #expect(result.status == 0)
        #expect(result.residual == .underflow(3072))
        #expect(Array(buffer: result.data) == FakeTargetConnection.pattern(length: 1024))
    }

    @Test func residualOverflowComesBackWithTheFullData() async throws {
        let result = try await read(blocks: 8) { command, connection in
            connection.send(.dataIn(DataIn(
                final: true,
                initiatorTaskTag: command.initiatorTaskTag,
                expCmdSN: 0,
                maxCmdSN: 0,
                dataSN: 0,
                bufferOffset: 0,
                data: ByteBuffer(bytes: FakeTargetConnection.pattern(length: 4096))
            )))
            connection.send(.scsiResponse(SCSIResponse(
                residualOverflow: true,
                status: 0,
                initiatorTaskTag: command.initiatorTaskTag,
                statSN: 0,
                expCmdSN: 0,
                maxCmdSN: 0,
                expDataSN: 1,
                residualCount: 512
            )))
        }
        #expect(result.isGood)
        #expect(result.residual == .overflow(512))
        #expect(Array(buffer: result.data) == FakeTargetConnection.pattern(length: 4096))
    }

    @Test func checkConditionCarriesTheSenseData() async throws {
        let result = try await read(blocks: 1) { command, connection in
            connection.send(.scsiResponse(SCSIResponse(
                residualUnderflow: true,
                status: 0x02,
                initiatorTaskTag: command.initiatorTaskTag,
                statSN: 0,
                expCmdSN: 0,
                maxCmdSN: 0,
                residualCount: 512,
                data: Self.senseSegment(Self.capacityChanged)
            )))
        }
        #expect(result.status == 0x02)
        #expect(!result.isGood)
        #expect(result.senseData == Self.capacityChanged)
        #expect(result.residual == .underflow(512))
        #expect(result.data.readableBytes == 0)
    }

    @Test func phaseCollapsedStatusEndsAMultiPDURead() async throws {
        let pattern = FakeTargetConnection.pattern(length: 8192)
        let result = try await read(blocks: 16) { command, connection in
            for (index, offset) in [0, 4096].enumerated() {
                connection.send(.dataIn(DataIn(
                    final: offset == 4096,
                    statusPresent: offset == 4096,
                    status: 0,
                    initiatorTaskTag: command.initiatorTaskTag,
                    expCmdSN: 0,
                    maxCmdSN: 0,
                    dataSN: UInt32(index),
                    bufferOffset: UInt32(offset),
                    data: ByteBuffer(bytes: pattern[offset..<offset + 4096])
                )))
            }
        }
        #expect(result.isGood)
        #expect(result.residual == .none)
        #expect(result.senseData.isEmpty)
        #expect(Array(buffer: result.data) == pattern)
    }

    // MARK: The target's own ping

    @Test func nopInWithATargetTransferTagIsEchoed() async throws {
        try await FakeTarget.run { fake in
            let session = try await ISCSISession.connect(fake.configuration())
            // One ping that wants no answer (reserved TTT), then one that does.
            try await fake.perform { connection in
                connection.send(.nopIn(NOPIn(initiatorTaskTag: reservedTag, statSN: 0, expCmdSN: 0, maxCmdSN: 0)))
                connection.send(.nopIn(NOPIn(
                    lun: ISCSIPDU.encodeLUN(0),
                    initiatorTaskTag: reservedTag,
                    targetTransferTag: 0x0BAD_CAFE,
                    statSN: 0,
                    expCmdSN: 0,
                    maxCmdSN: 0,
                    data: ByteBuffer(string: "are you there?")
                )))
            }
            let answer = try await fake.log.waitFor("the NOP-Out answer") { log -> NOPOut? in
                for case .nopOut(let nop) in log.pdus where nop.targetTransferTag != reservedTag { return nop }
                return nil
            }
            #expect(answer.targetTransferTag == 0x0BAD_CAFE)
            #expect(answer.initiatorTaskTag == reservedTag)
            #expect(answer.immediate)
            #expect(answer.data == ByteBuffer(string: "are you there?"))
            // The echo is immediate: it carries the next CmdSN without taking it.
            let result = try await BoundedWait.run("a command after the ping", within: BoundedWait.hangGuard) {
                try await session.execute(.testUnitReady())
            }
            #expect(result.isGood)
            #expect(fake.log.commands.first?.cmdSN == answer.cmdSN)
            let nopOuts = fake.log.pdus.filter { $0.opcode == .nopOut }
            #expect(nopOuts.count == 1, "only the ping with a Target Transfer Tag is answered")
            await session.close()
        }
    }
}
