// Faults only a fake target produces: corrupt digests, malformed bytes, opcodes out of place,
// a login that is never answered and a target that falls silent. Each ends the connection
// with a named error, in bounded time, without crash, hang or busy loop.

import ISCSI
import NIOCore
import NIOPosix
import TestSupport
import Testing

@Suite struct FakeTargetFaultTests {
    /// Leaves SCSI commands unanswered, so each test decides what comes back.
    static let holdCommands: FakeTarget.Script = { pdu, connection in
        if case .scsiCommand = pdu { return }
        connection.respondNormally(to: pdu)
    }

    // MARK: Digests

    @Test func corruptHeaderDigestDropsTheConnectionAndEveryCommand() async throws {
        try await FakeTarget.run(script: Self.holdCommands) { fake in
            let session = try await ISCSISession.connect(fake.configuration(digests: true))
            let events = SessionEventRecorder(session)
            let commands = (0..<3).map { _ in Task { try await session.execute(.testUnitReady()) } }
            let sent = try await fake.log.waitFor("three commands at the target") { $0.commands.count == 3 ? $0.commands : nil }

            try await fake.perform { connection in
                let response = SCSIResponse(status: 0, initiatorTaskTag: sent[0].initiatorTaskTag, statSN: 0, expCmdSN: 0, maxCmdSN: 0)
                connection.send(.scsiResponse(response), corrupting: .headerDigest)
            }
            for command in commands {
                let error = try await BoundedWait.error("a command behind the corrupt header", within: BoundedWait.hangGuard) {
                    _ = try await command.value
                }
                expectISCSIError(error, .headerDigestMismatch, .connection, "header digest", "opcode byte 0x21")
            }
            let lost = try await events.first("the connection-lost event") { event -> ISCSIError? in
                if case .connectionLost(let error) = event { error } else { nil }
            }
            #expect(lost.code == .headerDigestMismatch)
            // The session is finished: new work fails at once with the same error.
            let late = try await BoundedWait.error("a command after the drop", within: BoundedWait.hangGuard) {
                _ = try await session.execute(.testUnitReady())
            }
            expectISCSIError(late, .headerDigestMismatch, .connection, "header digest")
        }
    }

    @Test func corruptDataDigestDropsTheConnection() async throws {
        try await FakeTarget.run(script: Self.holdCommands) { fake in
            let session = try await ISCSISession.connect(fake.configuration(digests: true))
            let read = Task { try await session.execute(.read(blocks: 8)) }
            let command = try await fake.log.waitFor("the READ at the target") { $0.commands.first }

            try await fake.perform { connection in
                let dataIn = DataIn(
                    final: true,
                    statusPresent: true,
                    initiatorTaskTag: command.initiatorTaskTag,
                    expCmdSN: 0,
                    maxCmdSN: 0,
                    dataSN: 0,
                    bufferOffset: 0,
                    data: ByteBuffer(bytes: FakeTargetConnection.pattern(length: 4096))
                )
                connection.send(.dataIn(dataIn), corrupting: .dataDigest)
            }
            let error = try await BoundedWait.error("the READ behind the corrupt data", within: BoundedWait.hangGuard) {
                _ = try await read.value
            }
            expectISCSIError(error, .dataDigestMismatch, .connection, "SCSI Data-In", "data digest", "over 4096 bytes")
        }
    }

    // MARK: Malformed bytes

    /// Bytes a broken target might send instead of a PDU.
    enum Malformation: CaseIterable, Sendable, CustomStringConvertible {
        case unknownOpcode
        case oversizedDataSegment
        case httpInsteadOfISCSI
        case initiatorOpcode
        case closedMidHeader
        case closedMidDataSegment

        var description: String {
            switch self {
            case .unknownOpcode: "a BHS with opcode 0x3B"
            case .oversizedDataSegment: "a NOP-In announcing 16 MiB of data"
            case .httpInsteadOfISCSI: "an HTTP error page"
            case .initiatorOpcode: "a SCSI Command from the target"
            case .closedMidHeader: "30 bytes of a header, then close"
            case .closedMidDataSegment: "a Data-In header and 100 of its 4096 data bytes, then close"
            }
        }

        var bytes: ByteBuffer {
            let encoder = ISCSIPDUEncoder()
            var buffer = ByteBuffer()
            switch self {
            case .unknownOpcode:
                buffer.writeInteger(UInt8(0x3B))
                buffer.writeRepeatingByte(0, count: 47)
            case .oversizedDataSegment:
                encoder.encode(.nopIn(NOPIn(initiatorTaskTag: reservedTag, statSN: 1, expCmdSN: 1, maxCmdSN: 1)), into: &buffer)
                // DataSegmentLength is bytes 5-7 of the BHS: the largest the 24-bit field holds.
                buffer.setBytes([0xFF, 0xFF, 0xFF], at: 5)
            case .httpInsteadOfISCSI:
                buffer.writeString("HTTP/1.1 400 Bad Request\r\nServer: not-an-iscsi-target\r\nContent-Length: 0\r\n\r\n")
            case .initiatorOpcode:
                let command = SCSICommand(read: false, write: false, lun: 0, initiatorTaskTag: 1, expectedDataTransferLength: 0, cmdSN: 1, expStatSN: 1, cdb: [0])
                encoder.encode(.scsiCommand(command), into: &buffer)
            case .closedMidHeader:
                encoder.encode(.nopIn(NOPIn(initiatorTaskTag: reservedTag, statSN: 1, expCmdSN: 1, maxCmdSN: 1)), into: &buffer)
                buffer.moveWriterIndex(to: 30)
            case .closedMidDataSegment:
                let dataIn = DataIn(final: true, initiatorTaskTag: 0x1234, expCmdSN: 1, maxCmdSN: 1, dataSN: 0, bufferOffset: 0, data: ByteBuffer(repeating: 0xAB, count: 4096))
                encoder.encode(.dataIn(dataIn), into: &buffer)
                buffer.moveWriterIndex(to: 48 + 100)
            }
            return buffer
        }

        var closesAfterwards: Bool {
            switch self {
            case .closedMidHeader, .closedMidDataSegment: true
            case .unknownOpcode, .oversizedDataSegment, .httpInsteadOfISCSI, .initiatorOpcode: false
            }
        }

        var expected: (code: ISCSIError.Code, fragments: [String]) {
            switch self {
            case .unknownOpcode: (.malformedPDU, ["unknown opcode 0x3B"])
            case .oversizedDataSegment: (.dataSegmentTooLong, ["NOP-In", "DataSegmentLength 16777215", "exceeds MaxRecvDataSegmentLength 262144"])
            case .httpInsteadOfISCSI: (.malformedPDU, ["unknown opcode 0x08", "byte 0 is 0x48"])
            case .initiatorOpcode: (.unexpectedPDU, ["SCSI Command", "only the other side sends it"])
            case .closedMidHeader: (.connectionClosed, ["in the middle of a PDU (30 of 48 bytes)"])
            case .closedMidDataSegment: (.connectionClosed, ["in the middle of a PDU (148 of 4144 bytes)"])
            }
        }
    }

    @Test(arguments: Malformation.allCases)
    func malformedInputEndsTheConnectionWithoutSpinning(_ malformation: Malformation) async throws {
        // A loop of its own, so its thread's CPU time is this session's alone.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            try await FakeTarget.run(script: Self.holdCommands) { fake in
                let session = try await ISCSISession.connect(fake.configuration(), eventLoopGroup: group)
                let loop = group.next()
                let command = Task { try await session.execute(.testUnitReady()) }
                _ = try await fake.log.waitFor("the command at the target") { $0.commands.first }

                let cpuBefore = try await loop.submit { ThreadCPUTime.current() }.get()
                let sentAt = try await fake.perform { connection in
                    connection.sendRaw(malformation.bytes)
                    if malformation.closesAfterwards { connection.close() }
                    return NIODeadline.now()
                }
                let error = try await BoundedWait.error("the command behind \(malformation)", within: BoundedWait.hangGuard) {
                    _ = try await command.value
                }
                let (code, fragments) = malformation.expected
                expectISCSIError(error, code, .connection, fragments: fragments)
                if !malformation.closesAfterwards {
                    // The initiator hangs up at once; the fake notes when its side closes.
                    let closedAt = try await fake.log.waitFor("the initiator to close") { $0.closedAt }
                    #expect(closedAt - sentAt < .milliseconds(500), "the initiator closed \(closedAt - sentAt) after the bad bytes")
                }

                // Give a spinning read loop or timer time to show itself before measuring.
                try await Task.sleep(for: .milliseconds(300))
                let cpu = try await loop.submit { ThreadCPUTime.current() }.get() - cpuBefore
                #expect(cpu < .milliseconds(50), "the session's event loop used \(cpu) of CPU across the failure")
            }
        } catch {
            try await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
    }

    // MARK: Opcodes out of place

    @Test func loginResponseInFullFeaturePhaseIsUnexpected() async throws {
        try await FakeTarget.run(script: Self.holdCommands) { fake in
            let session = try await ISCSISession.connect(fake.configuration())
            let command = Task { try await session.execute(.testUnitReady()) }
            _ = try await fake.log.waitFor("the command at the target") { $0.commands.first }
            try await fake.perform { connection in
                let response = LoginResponse(
                    transit: true,
                    currentStage: .operationalNegotiation,
                    nextStage: .fullFeaturePhase,
                    isid: 0,
                    tsih: 1,
                    initiatorTaskTag: 0,
                    statSN: 0,
                    expCmdSN: 0,
                    maxCmdSN: 0,
                    data: ByteBuffer()
                )
                connection.send(.loginResponse(response))
            }
            let error = try await BoundedWait.error("the command behind the Login Response", within: BoundedWait.hangGuard) {
                _ = try await command.value
            }
            expectISCSIError(error, .unexpectedPDU, .connection, "sent a Login Response PDU in the full feature phase")
        }
    }

    @Test func r2tForAReadIsAProtocolViolation() async throws {
        try await FakeTarget.run(script: Self.holdCommands) { fake in
            let session = try await ISCSISession.connect(fake.configuration())
            let read = Task { try await session.execute(.read(blocks: 4)) }
            let command = try await fake.log.waitFor("the READ at the target") { $0.commands.first }
            try await fake.perform { connection in
                let r2t = ReadyToTransfer(
                    initiatorTaskTag: command.initiatorTaskTag,
                    targetTransferTag: 0x77,
                    statSN: 0,
                    expCmdSN: 0,
                    maxCmdSN: 0,
                    r2tSN: 0,
                    bufferOffset: 0,
                    desiredDataTransferLength: 2048
                )
                connection.send(.readyToTransfer(r2t))
            }
            let error = try await BoundedWait.error("the READ that got an R2T", within: BoundedWait.hangGuard) {
                _ = try await read.value
            }
            let tag = String(command.initiatorTaskTag, radix: 16)
            expectISCSIError(error, .protocolViolation, .connection, "sent an R2T for task 0x\(tag), which has no data to write")
        }
    }

    @Test func dataInForACommandThatReadsNothingIsAProtocolViolation() async throws {
        try await FakeTarget.run(script: Self.holdCommands) { fake in
            let session = try await ISCSISession.connect(fake.configuration())
            let command = Task { try await session.execute(.testUnitReady()) }
            let sent = try await fake.log.waitFor("the TEST UNIT READY at the target") { $0.commands.first }
            try await fake.perform { connection in
                connection.send(.dataIn(DataIn(
                    final: true,
                    statusPresent: true,
                    initiatorTaskTag: sent.initiatorTaskTag,
                    expCmdSN: 0,
                    maxCmdSN: 0,
                    dataSN: 0,
                    bufferOffset: 0,
                    data: ByteBuffer(bytes: FakeTargetConnection.pattern(length: 512))
                )))
            }
            let error = try await BoundedWait.error("the command that got Data-In", within: BoundedWait.hangGuard) {
                _ = try await command.value
            }
            let tag = String(sent.initiatorTaskTag, radix: 16)
            expectISCSIError(error, .protocolViolation, .connection, "sent Data-In for task 0x\(tag) (TEST UNIT READY), which reads no data")
        }
    }

    // MARK: Silence

    @Test func stalledLoginTimesOut() async throws {
        try await FakeTarget.run(login: .stall) { fake in
            let clock = ContinuousClock()
            let start = clock.now
            let error = try await BoundedWait.error("a login nobody answers", within: BoundedWait.hangGuard) {
                _ = try await ISCSISession.connect(fake.configuration(loginTimeout: .milliseconds(500)))
            }
            // Never early: measured from before the connect, so a slow pool can only lengthen it.
            #expect(clock.now - start >= .milliseconds(500))
            expectISCSIError(
                error,
                .timeout,
                .connection,
                "login to \(FakeTarget.targetName) timed out after 500 ms",
                "the target stopped answering"
            )
            let connectedAt = try await fake.log.waitFor("the connection") { $0.connectedAt }
            let closedAt = try await fake.log.waitFor("the initiator to hang up") { $0.closedAt }
            // Never late: measured on the fake's loop from the accept, which can only trail the initiator's connect.
            #expect(closedAt - connectedAt < .milliseconds(1000), "the initiator hung up \(closedAt - connectedAt) after connecting")
            #expect(fake.log.pdus.map(\.opcode) == [.loginRequest])
        }
    }

    @Test func serverThatIsNoTargetFailsTheLogin() async throws {
        let page = ByteBuffer(string: "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        try await FakeTarget.run(login: .reply(page)) { fake in
            let error = try await BoundedWait.error("a login answered with HTTP", within: BoundedWait.hangGuard) {
                _ = try await ISCSISession.connect(fake.configuration())
            }
            expectISCSIError(error, .malformedPDU, .connection, "unknown opcode 0x08 (byte 0 is 0x48)")
            let closedAt = try await fake.log.waitFor("the initiator to hang up") { $0.closedAt }
            let connectedAt = try await fake.log.waitFor("the connection") { $0.connectedAt }
            // At once, not at the 2 s login timeout.
            #expect(closedAt - connectedAt < .milliseconds(500))
        }
    }

    @Test func silentTargetFailsTheKeepaliveAndEveryCommand() async throws {
        try await FakeTarget.run(script: { _, _ in }) { fake in
            let configuration = fake.configuration(keepaliveInterval: .milliseconds(300), keepaliveTimeout: .milliseconds(300))
            let session = try await ISCSISession.connect(configuration)
            let events = SessionEventRecorder(session)
            let commands = (0..<2).map { _ in Task { try await session.execute(.read(blocks: 1)) } }

            for command in commands {
                let error = try await BoundedWait.error("a command to a silent target", within: BoundedWait.hangGuard) {
                    _ = try await command.value
                }
                expectISCSIError(error, .timeout, .connection, "did not answer a NOP-Out ping", "nothing received for")
            }
            let loggedInAt = try await fake.log.waitFor("the login") { $0.loggedInAt }
            let closedAt = try await fake.log.waitFor("the initiator to hang up") { $0.closedAt }
            let elapsed = closedAt - loggedInAt
            // Interval + timeout is 600 ms of silence after login; a loaded machine may add a little.
            #expect(elapsed >= .milliseconds(590) && elapsed < .milliseconds(1100), "the keepalive fired after \(elapsed)")
            let pings = fake.log.pdus.filter { pdu in
                if case .nopOut(let nop) = pdu { nop.initiatorTaskTag != reservedTag && nop.immediate } else { false }
            }
            #expect(pings.count == 1)
            let lost = try await events.first("the connection-lost event") { event -> ISCSIError? in
                if case .connectionLost(let error) = event { error } else { nil }
            }
            #expect(lost.code == .timeout)
        }
    }

    @Test func answeredKeepaliveKeepsTheSessionUp() async throws {
        try await FakeTarget.run { fake in
            let configuration = fake.configuration(keepaliveInterval: .milliseconds(200), keepaliveTimeout: .milliseconds(200))
            let session = try await ISCSISession.connect(configuration)
            let loggedInAt = try await fake.log.waitFor("the login") { $0.loggedInAt }
            // Wait until a second has passed on the fake's clock; the pool may stretch the sleep, not shorten it.
            try await Task.sleep(for: .seconds(1))
            let result = try await BoundedWait.run("a command after a second of pings", within: BoundedWait.hangGuard) {
                try await session.execute(.testUnitReady())
            }
            #expect(result.isGood)
            #expect(fake.log.closedAt == nil)
            let pings = fake.log.timedPDUs.compactMap { entry -> NIODeadline? in
                if case .nopOut(let nop) = entry.pdu, nop.initiatorTaskTag != reservedTag { entry.at } else { nil }
            }
            let inFirstSecond = pings.filter { $0 - loggedInAt <= .seconds(1) }
            // A ping after each 200 ms of silence: four or five in the first second, never two closer than the interval.
            #expect(inFirstSecond.count >= 4 && inFirstSecond.count <= 5, "\(inFirstSecond.count) pings in the first second")
            for (earlier, later) in zip(pings, pings.dropFirst()) {
                #expect(later - earlier >= .milliseconds(195), "pings \(later - earlier) apart")
            }
            await session.close()
        }
    }
}
