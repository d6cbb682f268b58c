// A raw connection driven step by step: it numbers CmdSNs and tags itself, so a test can
// withhold Data-Out, leave CmdSN gaps and send task management at exact moments.

import ISCSI
import NIOCore
import TestSupport

/// Used by one task or thread at a time (its socket calls block): against a target in this
/// process, run it through `blocking`, off the concurrency pool the target needs.
final class ScriptedInitiator: @unchecked Sendable {
    let client: RawISCSIClient
    /// The CmdSN the next non-immediate command takes.
    var cmdSN: UInt32 = 1
    private var nextTag: UInt32 = 0x100

    /// Logs in to `target` with InitialR2T=Yes and ImmediateData=No, so every WRITE waits
    /// for an R2T before any of its data moves.
    init(port: Int, target: String = ExportHarness.iqn, initiator: String, isid: UInt64 = 0x80_0000_0002_00, timeoutSeconds: Int = 10) throws {
        client = try RawISCSIClient(port: port, timeoutSeconds: timeoutSeconds)
        let login = try client.login(
            target: target, initiator: initiator, isid: isid,
            keys: [TextKeyValue("InitialR2T", "Yes"), TextKeyValue("ImmediateData", "No")]
        )
        guard login.statusClass == 0, login.nextStage == .fullFeaturePhase else {
            throw RawISCSIClient.Failure(description: "login refused: class \(login.statusClass) detail \(login.statusDetail)")
        }
    }

    /// Connects and logs in on a thread of its own.
    static func connect(port: Int, initiator: String, isid: UInt64 = 0x80_0000_0002_00) async throws -> ScriptedInitiator {
        try await OffPool.run { try ScriptedInitiator(port: port, initiator: initiator, isid: isid) }
    }

    /// Runs `steps` on a thread of its own and returns what they return.
    func blocking<T: Sendable>(_ steps: @escaping @Sendable (ScriptedInitiator) throws -> T) async throws -> T {
        try await OffPool.run { try steps(self) }
    }

    func tag() -> UInt32 {
        nextTag += 1
        return nextTag
    }

    /// Sends a command with the next CmdSN (or `cmdSN` when given, leaving the counter alone)
    /// and a fresh tag (or `tag`); returns its tag.
    @discardableResult
    func send(
        lun: UInt64 = 0, cdb: [UInt8], read: Bool = false, write: Bool = false, length: Int = 0, cmdSN explicit: UInt32? = nil, tag chosen: UInt32? = nil
    ) throws -> UInt32 {
        let itt = chosen ?? tag()
        let number = explicit ?? cmdSN
        if explicit == nil { cmdSN &+= 1 }
        try client.send(.scsiCommand(SCSICommand(
            read: read, write: write, lun: lun, initiatorTaskTag: itt, expectedDataTransferLength: UInt32(length),
            cmdSN: number, expStatSN: 0, cdb: cdb
        )))
        return itt
    }

    /// Runs one command to its end.
    func run(lun: UInt64 = 0, cdb: [UInt8], read: Bool = false, length: Int = 0) throws -> RawISCSIClient.Completion {
        try client.completion(of: send(lun: lun, cdb: cdb, read: read, length: length))
    }

    /// TEST UNIT READY until GOOD (the first command of a nexus meets POWER ON, RESET), at most five times.
    func clearUnitAttentions() throws {
        for _ in 0..<5 {
            if try run(cdb: [0, 0, 0, 0, 0, 0]).status == 0 { return }
        }
        throw RawISCSIClient.Failure(description: "TEST UNIT READY never returned GOOD on the raw connection")
    }

    /// Sends WRITE(10) of `blocks` blocks at `lba` and waits for the target's first R2T,
    /// whose data it withholds; `transferTag` is the R2T's, for sending the data later.
    func withheldWrite(lba: UInt32, blocks: UInt16) throws -> (tag: UInt32, cmdSN: UInt32, transferTag: UInt32) {
        let number = cmdSN
        let itt = try send(cdb: ExportDatastoreEndToEndTests.cdb10(0x2A, lba: lba, blocks: blocks), write: true, length: Int(blocks) * 512)
        guard case .readyToTransfer(let r2t) = try client.receive(), r2t.initiatorTaskTag == itt else {
            throw RawISCSIClient.Failure(description: "no R2T for the WRITE tagged \(itt)")
        }
        return (itt, number, r2t.targetTransferTag)
    }

    /// Sends an immediate task management request and reads to its response; other PDUs that came first are returned too.
    func taskManagement(
        _ function: TaskManagementFunction, lun: UInt64 = 0, referencedTaskTag: UInt32 = reservedTag, refCmdSN: UInt32 = 0
    ) throws -> (response: UInt8, others: [ISCSIPDU]) {
        let itt = tag()
        try client.send(.taskManagementRequest(TaskManagementRequest(
            function: function, lun: lun, initiatorTaskTag: itt, referencedTaskTag: referencedTaskTag,
            cmdSN: cmdSN, expStatSN: 0, refCmdSN: refCmdSN
        )))
        var others: [ISCSIPDU] = []
        // Bounded: at most 64 PDUs before the response.
        for _ in 0..<64 {
            guard let pdu = try client.receive() else { throw RawISCSIClient.Failure(description: "connection closed before the \(function) response") }
            if case .taskManagementResponse(let response) = pdu, response.initiatorTaskTag == itt { return (response.response, others) }
            others.append(pdu)
        }
        throw RawISCSIClient.Failure(description: "no \(function) response within 64 PDUs")
    }

    /// An immediate NOP-Out ping; true when its echo came back.
    func ping() throws -> Bool {
        let itt = tag()
        try client.send(.nopOut(NOPOut(initiatorTaskTag: itt, cmdSN: cmdSN, expStatSN: 0)))
        // Bounded: at most 64 PDUs before the echo.
        for _ in 0..<64 {
            guard let pdu = try client.receive() else { return false }
            if case .nopIn(let echo) = pdu, echo.initiatorTaskTag == itt { return true }
        }
        return false
    }

    func logout() throws {
        try client.send(.logoutRequest(LogoutRequest(reason: .closeSession, initiatorTaskTag: tag(), connectionID: 0, cmdSN: cmdSN, expStatSN: 0)))
        // Bounded: at most 64 PDUs before the response.
        for _ in 0..<64 {
            guard let pdu = try client.receive() else { throw RawISCSIClient.Failure(description: "connection closed before the Logout Response") }
            if case .logoutResponse = pdu { return }
        }
        throw RawISCSIClient.Failure(description: "no Logout Response within 64 PDUs")
    }
}
