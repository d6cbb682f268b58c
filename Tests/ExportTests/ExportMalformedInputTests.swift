// Malformed PDUs and CDBs from scripted connections to one LUN of a served export, while
// a native session does verified I/O on another LUN the whole time: each bad input gets
// a Reject or CHECK CONDITION or costs its own connection only, and the other session
// never sees an error or a wrong byte.

import Foundation
import ISCSI
import NIOCore
import SCSI
import Synchronization
import TestSupport
import Testing

@Suite(.serialized, .timeLimit(.minutes(5))) struct ExportMalformedInputTests {
    /// The bystander's rounds so far, and whether the malformed input is over (then its loop may end).
    final class Progress: Sendable {
        let rounds = Mutex(0)
        let finished = Mutex(false)
    }

    /// Verified WRITE/READ rounds on `lun` until `progress.finished` (at least 10 rounds, at
    /// most 400 or 120 s); returns (rounds, failures described).
    static func bystanderLoop(_ session: ISCSISession, lun: UInt64, progress: Progress) async throws -> (rounds: Int, failures: [String]) {
        let clock = ContinuousClock()
        let start = clock.now
        var failures: [String] = []
        var rounds = 0
        while rounds < 400, clock.now - start < .seconds(120), rounds < 10 || !progress.finished.withLock({ $0 }) {
            let lba = UInt32(rounds % 256) * 32
            let data = TestPattern.bytes(seed: UInt64(rounds) | 0xB0_0000, count: 32 * 512)
            let write = try await session.execute(SCSITaskRequest(lun: lun, cdb: ExportDatastoreEndToEndTests.cdb10(0x2A, lba: lba, blocks: 32), dataOut: data))
            let read = try await session.execute(SCSITaskRequest(lun: lun, cdb: ExportDatastoreEndToEndTests.cdb10(0x28, lba: lba, blocks: 32), expectedDataInLength: data.readableBytes))
            if !write.isGood || !read.isGood || read.data != data {
                failures.append("round \(rounds): write \(write.status), read \(read.status), same bytes \(read.data == data)")
            }
            rounds += 1
            progress.rounds.withLock { $0 = rounds }
        }
        return (rounds, failures)
    }

    @Test func badPDUsAndCDBsOnOneLUNLeaveAnotherSessionsVerifiedIOOnAnotherLUNUntouched() async throws {
        let directory = try ScratchDirectory(prefix: "export-malformed")
        defer { directory.remove() }
        let target = try directory.createSparseFile("target.img", size: 8 << 20)
        let other = try directory.createSparseFile("other.img", size: 8 << 20)
        try await ServedExport.with(["--raw", target, "--raw", other], in: directory) { export in
            let bystander = try await ISCSISession.connect(ISCSISessionConfiguration(
                portal: TargetPortal(host: export.portal.host, port: export.portal.port), targetName: export.iqn,
                initiatorName: "iqn.2025-01.io.vdiskd:bystander", loginTimeout: .seconds(10)
            ))
            try await ExportDatastoreEndToEndTests.clearUnitAttentions(bystander, lun: 1)
            let progress = Progress()
            async let loop = Self.bystanderLoop(bystander, lun: 1, progress: progress)
            // The bad input starts once the bystander is under way (bounded: 500 looks, 10 ms apart).
            for _ in 0..<500 {
                if progress.rounds.withLock({ $0 }) >= 2 { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            let roundsBefore = progress.rounds.withLock { $0 }
            let problems: [String]
            do {
                // Off the concurrency pool: its socket calls block, and the bystander needs the pool.
                problems = try await OffPool.run { try Self.malformedInput(export, bystander: progress) }
            } catch {
                progress.finished.withLock { $0 = true }
                _ = try? await loop
                throw error
            }
            let roundsDuring = progress.rounds.withLock { $0 } - roundsBefore
            progress.finished.withLock { $0 = true }
            let (rounds, failures) = try await loop
            #expect(problems.isEmpty, "\(problems)")
            #expect(failures.isEmpty, "\(failures)")
            #expect(roundsBefore >= 2 && roundsDuring >= 4 && rounds >= 10, "bystander rounds: \(roundsBefore) before, \(roundsDuring) during, \(rounds) in all")
            try await bystander.logout()

            // A libiscsi client logging in afresh finds the target and LUN 0 in order.
            let inquiry = try await LibISCSIClient.inquiry(export.url(lun: 0))
            #expect(inquiry.status.isSuccess, "\(inquiry)")
        }
    }

    /// The bad input, each piece checked for its answer; runs on a thread of its own while
    /// the bystander works, so it returns what went wrong instead of recording it. After
    /// each kind of bad input it waits for the bystander to finish another verified round.
    static func malformedInput(_ export: ServedExport, bystander: Progress) throws -> [String] {
        var problems: [String] = []
        func check(_ holds: Bool, _ what: @autoclosure () -> String) {
            if !holds { problems.append(what()) }
        }
        func bystanderGoesOn(_ after: String) {
            let start = bystander.rounds.withLock { $0 }
            // Bounded: 3000 looks, 10 ms apart.
            for _ in 0..<3000 {
                if bystander.rounds.withLock({ $0 }) > start { return }
                Thread.sleep(forTimeInterval: 0.01)
            }
            problems.append("the bystander made no progress within 30 s after \(after)")
        }
        let port = export.portal.port
        let scripted = try ScriptedInitiator(port: port, target: export.iqn, initiator: "iqn.2025-01.io.vdiskd:malformed")
        try scripted.clearUnitAttentions()

        // CDBs the unit refuses: CHECK CONDITION, ILLEGAL REQUEST, with the ASC that says why.
        let lastLBA = UInt32((8 << 20) / 512)
        let badCDBs: [(name: String, lun: UInt64, cdb: [UInt8], write: Bool, length: Int, asc: UInt8)] = [
            ("unknown operation code", 0, [0xFF, 0, 0, 0, 0, 0], false, 0, 0x20),
            ("READ(10) past the last LBA", 0, ExportDatastoreEndToEndTests.cdb10(0x28, lba: lastLBA, blocks: 1), false, 512, 0x21),
            ("READ(10) with NACA set", 0, [0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0x04], false, 512, 0x24),
            ("TEST UNIT READY to LUN 7", 0x0007_0000_0000_0000, [0, 0, 0, 0, 0, 0], false, 0, 0x25),
            ("WRITE(10) with a 128 MiB EDTL", 0, ExportDatastoreEndToEndTests.cdb10(0x2A, lba: 0, blocks: 1), true, 128 << 20, 0x24),
        ]
        for bad in badCDBs {
            let itt = try scripted.send(lun: bad.lun, cdb: bad.cdb, read: !bad.write && bad.length > 0, write: bad.write, length: bad.length)
            let result = try scripted.client.completion(of: itt)
            check(result.status == SCSIStatus.checkCondition.rawValue, "\(bad.name): status \(result.status)")
            check(result.senseCode?.key == 0x05 && result.senseCode?.asc == bad.asc, "\(bad.name): sense \(result.sense)")
        }

        bystanderGoesOn("the refused CDBs")

        // PDUs the connection refuses: a Reject each, and the connection goes on.
        var unknownOpcode = ByteBuffer(repeating: 0, count: 48)
        unknownOpcode.setInteger(UInt8(0x1C), at: 0)
        unknownOpcode.setInteger(UInt32(0x4242), at: 16)
        try scripted.client.sendBytes(unknownOpcode)
        try check(isReject(scripted.client.receive(), .commandNotSupported), "no Reject (command not supported) for an unknown opcode")
        try scripted.client.send(.snackRequest(SNACKRequest(type: 0, initiatorTaskTag: scripted.tag(), expStatSN: 0, begRun: 0, runLength: 0)))
        try check(isReject(scripted.client.receive(), .snackReject), "no Reject (SNACK reject) for a SNACK at ErrorRecoveryLevel 0")
        try scripted.client.send(.loginRequest(LoginRequest(
            transit: true, currentStage: .operationalNegotiation, nextStage: .fullFeaturePhase, isid: 0x80_0000_0002_00, tsih: 0,
            initiatorTaskTag: scripted.tag(), connectionID: 0, cmdSN: scripted.cmdSN, expStatSN: 0, data: ByteBuffer()
        )))
        try check(isReject(scripted.client.receive(), .protocolError), "no Reject (protocol error) for a Login Request in full feature phase")
        // Data-Out for a task nobody started is dropped without a word; a ping shows the connection is alive.
        try scripted.client.send(.dataOut(DataOut(final: true, lun: 0, initiatorTaskTag: 0xDEAD, targetTransferTag: 0x77, expStatSN: 0, dataSN: 0, bufferOffset: 0, data: ByteBuffer(repeating: 1, count: 512))))
        try check(scripted.ping(), "no echo after stray Data-Out")
        let read = try scripted.run(cdb: ExportDatastoreEndToEndTests.cdb10(0x28, lba: 0, blocks: 1), read: true, length: 512)
        check(read.status == 0 && read.data.count == 512, "a good READ after the bad input: \(read.status)")

        bystanderGoesOn("the Rejects")

        // A data segment longer than the target declared cannot be skipped: this connection ends.
        var oversized = ByteBuffer(repeating: 0, count: 48)
        oversized.setInteger(UInt8(0x01), at: 0)
        oversized.setInteger(UInt32(0x00FF_FFFF), at: 4)
        try scripted.client.sendBytes(oversized)
        try check(drainsToClose(scripted.client), "an oversized data segment did not end the connection")

        bystanderGoesOn("the dropped connection")

        // 4 KiB of noise instead of a login: that connection ends too.
        let noise = try RawISCSIClient(port: port)
        try noise.sendBytes(TestPattern.bytes(seed: 0x4015E, count: 4096))
        try check(drainsToClose(noise), "noise did not end its connection")

        // Half a header, then the client vanishes.
        let truncated = try ScriptedInitiator(port: port, target: export.iqn, initiator: "iqn.2025-01.io.vdiskd:truncated", isid: 0x80_0000_0005_00)
        try truncated.client.sendBytes(ByteBuffer(bytes: [0x01, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]))

        bystanderGoesOn("the noise and the half header")

        // After all that, a new connection logs in and LUN 0 still answers.
        let fresh = try ScriptedInitiator(port: port, target: export.iqn, initiator: "iqn.2025-01.io.vdiskd:fresh", isid: 0x80_0000_0006_00)
        try fresh.clearUnitAttentions()
        try check(fresh.run(cdb: ExportDatastoreEndToEndTests.cdb10(0x28, lba: 0, blocks: 8), read: true, length: 4096).status == 0, "a READ on a fresh connection afterwards")
        try fresh.logout()
        return problems
    }

    static func isReject(_ pdu: ISCSIPDU?, _ reason: RejectReason) -> Bool {
        guard case .reject(let reject)? = pdu else { return false }
        return reject.reason == reason.rawValue
    }

    /// Reads until the target closes (true), at most 16 PDUs.
    static func drainsToClose(_ client: RawISCSIClient) throws -> Bool {
        for _ in 0..<16 {
            if try client.receive() == nil { return true }
        }
        return false
    }
}
