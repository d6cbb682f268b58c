// The command timeout: an unanswered command is aborted and fails with .timeout; an
// unanswered abort ends the connection.

import ISCSI
import NIOCore
import Testing

@Suite struct FakeTargetCommandTimeoutTests {
    /// Never answers READs; answers everything else, ABORT TASK included.
    static let holdReads: FakeTarget.Script = { pdu, connection in
        if case .scsiCommand(let command) = pdu, command.read { return }
        connection.respondNormally(to: pdu)
    }

    /// Never answers READs nor task management.
    static let holdReadsAndAborts: FakeTarget.Script = { pdu, connection in
        if case .scsiCommand(let command) = pdu, command.read { return }
        if case .taskManagementRequest = pdu { return }
        connection.respondNormally(to: pdu)
    }

    @Test func anUnansweredCommandIsAbortedAndTimesOut() async throws {
        try await FakeTarget.run(script: Self.holdReads) { fake in
            let (session, error) = try await Self.timedOutRead(on: fake)
            expectISCSIError(error, .timeout, .task, "READ(10) on LUN 1 was not answered within 0.3 s and was aborted")
            let abort = try await fake.log.waitFor("the ABORT TASK") { log -> TaskManagementRequest? in
                for case .taskManagementRequest(let request) in log.pdus { return request }
                return nil
            }
            #expect(abort.function == .abortTask)
            // The connection goes on.
            let result = try await BoundedWait.run("a command after the timeout", within: BoundedWait.hangGuard) {
                try await session.execute(.testUnitReady())
            }
            #expect(result.isGood)
            await session.close()
        }
    }

    @Test func anUnansweredAbortEndsTheConnection() async throws {
        try await FakeTarget.run(script: Self.holdReadsAndAborts) { fake in
            let (session, error) = try await Self.timedOutRead(on: fake)
            expectISCSIError(error, .timeout, .connection, "answered neither READ(10) on LUN 1 nor its ABORT TASK within 0.3 s")
            let after = try await BoundedWait.error("a command on the ended connection", within: BoundedWait.hangGuard) {
                _ = try await session.execute(.testUnitReady())
            }
            #expect((after as? ISCSIError)?.scope == .connection)
        }
    }

    @Test func answeredCommandsAreNotTimedOut() async throws {
        try await FakeTarget.run { fake in
            var configuration = fake.configuration()
            configuration.commandTimeout = .milliseconds(200)
            let session = try await ISCSISession.connect(configuration)
            for _ in 0..<5 {
                let result = try await session.execute(.read(blocks: 1, lun: 0))
                #expect(result.isGood)
            }
            try await Task.sleep(for: .milliseconds(400))
            #expect(fake.log.pdus.allSatisfy { if case .taskManagementRequest = $0 { false } else { true } })
            await session.close()
        }
    }

    /// Connects with a 0.3 s command timeout and returns the error of one READ the script holds.
    static func timedOutRead(on fake: FakeTarget) async throws -> (ISCSISession, any Error) {
        var configuration = fake.configuration()
        configuration.commandTimeout = .milliseconds(300)
        let session = try await ISCSISession.connect(configuration)
        let error = try await BoundedWait.error("the held READ", within: BoundedWait.hangGuard) {
            _ = try await session.execute(.read(blocks: 4, lun: 1))
        }
        return (session, error)
    }
}
