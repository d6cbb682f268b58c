// The CmdSN window as a target enforces it (RFC 7143 §3.2.2.1): a window of one,
// and a closed window that only a NOP-In reopens.

import ISCSI
import NIOCore
import Testing

@Suite struct FakeTargetCommandWindowTests {
    @Test func windowOfOneRunsFiftyCommandsOneAtATime() async throws {
        // Answer late, so a second command sent too early would be seen outstanding beside the first.
        let script: FakeTarget.Script = { pdu, connection in
            connection.later(.milliseconds(2)) { $0.respondNormally(to: pdu) }
        }
        try await FakeTarget.run(window: 1, script: script) { fake in
            let session = try await ISCSISession.connect(fake.configuration())
            let results = try await BoundedWait.run("fifty commands through a window of one", within: BoundedWait.hangGuard) {
                try await withThrowingTaskGroup(of: SCSITaskResult.self) { group in
                    for index in 0..<50 {
                        group.addTask {
                            try await session.execute(index.isMultiple(of: 2) ? .testUnitReady() : .read(blocks: 1))
                        }
                    }
                    return try await group.reduce(into: [SCSITaskResult]()) { $0.append($1) }
                }
            }
            #expect(results.count == 50)
            #expect(results.allSatisfy { $0.isGood })
            #expect(fake.log.maximumOutstanding == 1)
            #expect(fake.log.windowViolations.isEmpty, "\(fake.log.windowViolations)")
            let cmdSNs = fake.log.commands.map(\.cmdSN)
            let first = cmdSNs.first ?? 0
            #expect(cmdSNs == (0..<50).map { first &+ UInt32($0) })
            await session.close()
        }
    }

    @Test func closedWindowHoldsCommandsUntilANOPInOpensIt() async throws {
        try await FakeTarget.run(window: 0) { fake in
            let session = try await ISCSISession.connect(fake.configuration())
            let commands = (0..<5).map { _ in Task { try await session.execute(.testUnitReady()) } }

            // MaxCmdSN = ExpCmdSN − 1: nothing may go out, however long we wait.
            try await Task.sleep(for: .milliseconds(300))
            #expect(fake.log.commands.isEmpty)

            try await fake.perform { connection in
                connection.window = 8
                connection.send(.nopIn(NOPIn(initiatorTaskTag: reservedTag, statSN: 0, expCmdSN: 0, maxCmdSN: 0)))
            }
            for command in commands {
                let result = try await BoundedWait.run("a command after the window opened", within: BoundedWait.hangGuard) {
                    try await command.value
                }
                #expect(result.isGood)
            }
            #expect(fake.log.commands.count == 5)
            #expect(fake.log.windowViolations.isEmpty, "\(fake.log.windowViolations)")
            await session.close()
        }
    }

    @Test func cancellingACommandHeldByTheWindowSendsNothing() async throws {
        try await FakeTarget.run(window: 0) { fake in
            let session = try await ISCSISession.connect(fake.configuration())
            let held = Task { try await session.execute(.read(blocks: 1)) }
            try await Task.sleep(for: .milliseconds(100))
            held.cancel()
            let error = try await BoundedWait.error("the held command", within: BoundedWait.hangGuard) {
                _ = try await held.value
            }
            expectISCSIError(error, .taskAborted, .task, "cancelled before it was sent")
            // Reopen the window: the cancelled command must not appear, and no ABORT TASK either.
            try await fake.perform { connection in
                connection.window = 4
                connection.send(.nopIn(NOPIn(initiatorTaskTag: reservedTag, statSN: 0, expCmdSN: 0, maxCmdSN: 0)))
            }
            let result = try await BoundedWait.run("a command after the cancel", within: BoundedWait.hangGuard) {
                try await session.execute(.testUnitReady())
            }
            #expect(result.isGood)
            #expect(fake.log.commands.count == 1)
            #expect(!fake.log.pdus.contains { $0.opcode == .taskManagementRequest })
            await session.close()
        }
    }
}
