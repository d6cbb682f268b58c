// Bounded write buffers, against `vdiskctl export serve` as a process: writes that withhold
// their last Data-Out are refused past the per-connection and export-wide budgets (TASK SET
// FULL, BUSY), fail at the data-phase timeout, and the process's resident memory never grows
// past the budget; once they fail, the budget is free for a write that completes.

import Foundation
import ISCSI
import NIOCore
import TestSupport
import Testing

@Suite(.serialized, .timeLimit(.minutes(3))) struct ExportWriteBudgetTests {
    static let writeBytes = 4 << 20
    static let connections = 6
    static let writesPerConnection = 4
    static let exportBudget = 24 << 20

    @Test func withheldWritesStayInTheBudgetAndFailAtTheDataPhaseTimeout() async throws {
        let directory = try ScratchDirectory(prefix: "export-budget")
        defer { directory.remove() }
        let image = try directory.createSparseFile("raw.img", size: 256 << 20)
        let port = try LoopbackPort.reserve()
        let iqn = "iqn.2025-01.io.vdiskd:budget"
        let arguments = [
            "--raw", image, "--listen", "127.0.0.1:\(port)", "--iqn", iqn, "--nop-interval", "0",
            "--write-budget", "24MiB", "--connection-write-budget", "8MiB", "--data-phase-timeout", "12",
        ]
        try await ExportServeProcessTests.serving(arguments, in: directory) { _, process in
            let baseline = try Self.residentBytes(of: process.pid)
            let clients = try await OffPool.run { () throws -> [RawISCSIClient] in
                try (0..<Self.connections).map { index in
                    let client = try RawISCSIClient(port: port, timeoutSeconds: 40)
                    let login = try client.login(
                        target: iqn, initiator: "iqn.2025-01.io.vdiskd:withholder\(index)", keys: RawISCSIClient.solicitedWriteKeys()
                    )
                    guard login.statusClass == 0 else { throw RawISCSIClient.Failure(description: "login \(index) refused") }
                    // The first command of each nexus meets POWER ON, RESET.
                    try client.send(.scsiCommand(SCSICommand(read: false, write: false, lun: 0, initiatorTaskTag: 1, expectedDataTransferLength: 0, cmdSN: 1, expStatSN: 0, cdb: [0, 0, 0, 0, 0, 0])))
                    _ = try client.completion(of: 1)
                    return client
                }
            }
            let data = ExportDataOutCostTests.pattern(bytes: Self.writeBytes)
            let clock = ContinuousClock()
            let started = clock.now
            // Every connection sends its writes and all of their data but the last 8 KiB.
            var withheld: [(client: Int, tag: UInt32)] = []
            var refusals: [UInt8] = []
            for (index, client) in clients.enumerated() {
                let outcome = try await OffPool.run { try Self.withhold(data, writes: Self.writesPerConnection, on: client) }
                withheld += outcome.withheld.map { (index, $0) }
                refusals += outcome.refusals
            }
            // The timeout (12 s) is longer than sending takes even on a loaded machine, so no
            // withheld write times out, freeing budget, before every write has been tried.
            let sent = clock.now
            let sending = sent - started
            #expect(sending < .seconds(12), "sending the writes took \(sending), longer than the data-phase timeout")
            // Let the export read what is still in its sockets before looking at its memory.
            try await Task.sleep(for: .milliseconds(500))
            let peak = try Self.residentBytes(of: process.pid) - baseline
            print("withheld writes: \(withheld.count), refusals \(refusals), resident growth \(peak >> 20) MiB")
            #expect(withheld.count == Self.exportBudget / Self.writeBytes, "as many 4 MiB writes as the 24 MiB budget holds are let in")
            #expect(refusals.count == Self.connections * Self.writesPerConnection - withheld.count)
            #expect(refusals.allSatisfy { $0 == 0x28 || $0 == 0x08 }, "refused with TASK SET FULL or BUSY: \(refusals)")
            #expect(refusals.contains(0x28) && refusals.contains(0x08), "both budgets refused some: \(refusals)")
            // Without a budget the 24 writes would hold 96 MiB; with it, 24 MiB plus the
            // connections' receive buffers and the allocator's slack stay under 48 MiB.
            #expect(peak < Self.exportBudget * 2, "the export's resident memory grew by \(peak >> 20) MiB")

            // Each withheld write ends CHECK CONDITION, ABORTED COMMAND, INITIATOR RESPONSE TIMEOUT.
            for (index, tag) in withheld {
                let completion = try await OffPool.run { try clients[index].completion(of: tag) }
                #expect(completion.status == 2)
                #expect(completion.senseCode.map { [$0.key, $0.asc, $0.ascq] } == [0x0B, 0x4B, 0x06], "sense \(completion.sense)")
            }
            let waited = clock.now - sent
            #expect(waited >= .seconds(12) - sending - .seconds(1) && waited < .seconds(24), "the withheld writes failed after \(waited), with a 12 s timeout")

            // The budget is back: a whole write now goes through.
            let whole = try await OffPool.run { try clients[0].write(data, at: 0, pduSize: 256 << 10, tag: 0x900, cmdSN: UInt32(2 + Self.writesPerConnection)) }
            #expect(whole.status == 0, "a write after the timeouts: status \(whole.status)")
        }
    }

    /// Sends `writes` WRITEs of `data` at distinct LBAs and answers their R2Ts, all but the
    /// last 8 KiB of each; returns the tags left waiting and the statuses of those refused.
    /// Bounded: at most 64 PDUs per write.
    static func withhold(_ data: ByteBuffer, writes: Int, on client: RawISCSIClient) throws -> (withheld: [UInt32], refusals: [UInt8]) {
        let blocks = UInt32(data.readableBytes / 512)
        var open: Set<UInt32> = []
        for index in 0..<writes {
            let tag = UInt32(0x100 + index)
            var cdb: [UInt8] = [0x8A, 0]
            cdb += withUnsafeBytes(of: (UInt64(index) * UInt64(blocks)).bigEndian, Array.init)
            cdb += withUnsafeBytes(of: blocks.bigEndian, Array.init)
            cdb += [0, 0]
            try client.send(.scsiCommand(SCSICommand(
                read: false, write: true, lun: 0, initiatorTaskTag: tag, expectedDataTransferLength: UInt32(data.readableBytes),
                cmdSN: UInt32(2 + index), expStatSN: 0, cdb: cdb
            )))
            open.insert(tag)
        }
        var withheld: [UInt32] = []
        var refusals: [UInt8] = []
        for _ in 0..<(64 * writes) where !open.isEmpty {
            guard let pdu = try client.receive() else { throw RawISCSIClient.Failure(description: "the export closed the connection") }
            switch pdu {
            case .readyToTransfer(let r2t) where open.contains(r2t.initiatorTaskTag):
                let last = Int(r2t.bufferOffset + r2t.desiredDataTransferLength) == data.readableBytes
                try client.sendData(data, for: r2t, pduSize: 8192, omittingLast: last ? 8192 : 0)
                if last {
                    open.remove(r2t.initiatorTaskTag)
                    withheld.append(r2t.initiatorTaskTag)
                }
            case .scsiResponse(let response) where open.contains(response.initiatorTaskTag):
                open.remove(response.initiatorTaskTag)
                refusals.append(response.status)
            default:
                continue
            }
        }
        guard open.isEmpty else { throw RawISCSIClient.Failure(description: "writes \(open) neither refused nor asked for all their data") }
        return (withheld, refusals)
    }

    /// VmRSS of a process, in bytes.
    static func residentBytes(of pid: pid_t) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { throw RawISCSIClient.Failure(description: "no VmRSS in /proc/\(pid)/status") }
        return kilobytes << 10
    }
}
