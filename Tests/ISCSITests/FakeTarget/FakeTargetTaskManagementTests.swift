// Task management, logout and login redirection against the fake target: what the
// initiator puts on the wire and what its callers get back.

import ISCSI
import NIOCore
import Testing

@Suite struct FakeTargetTaskManagementTests {
    /// Answers everything except READs, which stay in flight until a task management function ends them.
    static let holdReads: FakeTarget.Script = { pdu, connection in
        if case .scsiCommand(let command) = pdu, command.read { return }
        connection.respondNormally(to: pdu)
    }

    @Test func cancellingACommandSendsAbortTask() async throws {
        try await FakeTarget.run(script: Self.holdReads) { fake in
            let session = try await ISCSISession.connect(fake.configuration())
            let read = Task { try await session.execute(.read(blocks: 4, lun: 2)) }
            let command = try await fake.log.waitFor("the READ at the target") { $0.commands.first }

            read.cancel()
            let error = try await BoundedWait.error("the cancelled READ", within: BoundedWait.hangGuard) {
                _ = try await read.value
            }
            expectISCSIError(error, .taskAborted, .task, "READ(10) on LUN 2 was ended by ABORT TASK")

            let abort = try await fake.log.waitFor("the ABORT TASK") { log -> TaskManagementRequest? in
                for case .taskManagementRequest(let request) in log.pdus { return request }
                return nil
            }
            #expect(abort.function == .abortTask)
            #expect(abort.referencedTaskTag == command.initiatorTaskTag)
            #expect(abort.refCmdSN == command.cmdSN)
            #expect(abort.lun == command.lun)
            #expect(abort.immediate)
            // Immediate, so it carries the next CmdSN without taking it.
            #expect(abort.cmdSN == command.cmdSN &+ 1)

            // The abort ended one task, not the session.
            let result = try await BoundedWait.run("a command after the abort", within: BoundedWait.hangGuard) {
                try await session.execute(.testUnitReady())
            }
            #expect(result.isGood)
            #expect(fake.log.commands.last?.cmdSN == command.cmdSN &+ 1)
            await session.close()
        }
    }

    @Test func lunResetEndsTheLUNsCommands() async throws {
        try await FakeTarget.run(script: Self.holdReads) { fake in
            let session = try await ISCSISession.connect(fake.configuration())
            let reads = (0..<2).map { _ in Task { try await session.execute(.read(blocks: 1, lun: 0)) } }
            _ = try await fake.log.waitFor("both READs at the target") { $0.commands.count == 2 ? true : nil }

            let response = try await BoundedWait.run("the LUN RESET", within: BoundedWait.hangGuard) {
                try await session.taskManagement(.logicalUnitReset, lun: 0)
            }
            #expect(response == .functionComplete)
            for read in reads {
                let error = try await BoundedWait.error("a READ on the reset LUN", within: BoundedWait.hangGuard) {
                    _ = try await read.value
                }
                expectISCSIError(error, .taskAborted, .task, "READ(10) on LUN 0 was ended by LOGICAL UNIT RESET")
            }
            let reset = try await fake.log.waitFor("the LUN RESET request") { log -> TaskManagementRequest? in
                for case .taskManagementRequest(let request) in log.pdus { return request }
                return nil
            }
            #expect(reset.function == .logicalUnitReset)
            #expect(reset.lun == ISCSIPDU.encodeLUN(0))
            #expect(reset.referencedTaskTag == reservedTag)
            #expect(reset.immediate)
            await session.close()
        }
    }

    @Test func logoutClosesTheSession() async throws {
        try await FakeTarget.run { fake in
            let session = try await ISCSISession.connect(fake.configuration())
            try await BoundedWait.run("the logout", within: BoundedWait.hangGuard) {
                try await session.logout(timeout: .seconds(2))
            }
            let request = try await fake.log.waitFor("the Logout Request") { log -> LogoutRequest? in
                for case .logoutRequest(let request) in log.pdus { return request }
                return nil
            }
            #expect(request.reason == .closeSession)
            #expect(request.immediate)
            let error = try await BoundedWait.error("a command after logout", within: BoundedWait.hangGuard) {
                _ = try await session.execute(.testUnitReady())
            }
            expectISCSIError(error, .sessionClosed, .session, "the session with \(fake.portal) was logged out")
        }
    }

    @Test func redirectionLoopIsCutOff() async throws {
        try await FakeTarget.run(login: .redirectToItself) { fake in
            let error = try await BoundedWait.error("a login that only ever redirects", within: BoundedWait.hangGuard) {
                _ = try await ISCSISession.connect(fake.configuration())
            }
            expectISCSIError(error, .redirected, .session, "was redirected more than 4 times (last to \(fake.portal))")
            // The first login and four followed redirections.
            #expect(fake.log.connections == 5)
        }
    }

    @Test(arguments: [false, true])
    func redirectionIsFollowed(permanent: Bool) async throws {
        try await FakeTarget.run { second in
            try await FakeTarget.run(login: .redirect(to: second.portal, permanent: permanent)) { first in
                let session = try await BoundedWait.run("the redirected login", within: BoundedWait.hangGuard) {
                    try await ISCSISession.connect(first.configuration())
                }
                #expect(session.portal == second.portal)
                #expect(session.configuration.portal == first.portal)
                #expect(first.log.pdus.map(\.opcode) == [.loginRequest])
                #expect(second.log.connections == 1)
                let result = try await BoundedWait.run("a command on the second target", within: BoundedWait.hangGuard) {
                    try await session.execute(.testUnitReady())
                }
                #expect(result.isGood)
                #expect(second.log.commands.count == 1)
                #expect(first.log.commands.isEmpty)
                await session.close()
            }
        }
    }
}
