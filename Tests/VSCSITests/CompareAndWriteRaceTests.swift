// COMPARE AND WRITE from two nexuses racing for the same sector: in each of 1000
// rounds exactly one wins, and overlapping plain writes never tear it.

import NIOCore
import SCSI
import Testing
@testable import VSCSI

@Suite struct CompareAndWriteRaceTests {
    @Test func exactlyOneWinnerPerRound() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions(UnitFixture.a)
        await fixture.clearUnitAttentions(UnitFixture.b)
        func block(_ round: Int, _ owner: UInt8) -> [UInt8] {
            var bytes = [UInt8](repeating: owner, count: 512)
            bytes[0] = UInt8(truncatingIfNeeded: round)
            bytes[1] = UInt8(truncatingIfNeeded: round >> 8)
            return bytes
        }
        var current = block(0, 0)
        #expect(await fixture.run(CDB.write10(lba: 7, blockCount: 1), data: current).status == .good)
        for round in 1...1000 {
            let expected = current
            let claims = [block(round, 0xA), block(round, 0xB)]
            let outcomes = await withTaskGroup(of: (Int, SCSICommandResponse).self) { group in
                for (index, nexus) in [UnitFixture.a, UnitFixture.b].enumerated() {
                    group.addTask {
                        (index, await fixture.run(CDB.compareAndWrite(lba: 7, blockCount: 1), data: expected + claims[index], nexus: nexus))
                    }
                }
                var collected: [(Int, SCSICommandResponse)] = []
                for await outcome in group { collected.append(outcome) }
                return collected
            }
            let winners = outcomes.filter { $0.1.status == .good }
            let losers = outcomes.filter { $0.1.senseKey == .miscompare }
            #expect(winners.count == 1 && losers.count == 1, "round \(round)")
            guard let winner = winners.first else { break }
            current = claims[winner.0]
            let stored = await fixture.run(CDB.read10(lba: 7, blockCount: 1))
            #expect(stored.bytes == current, "round \(round)")
        }
    }

    @Test func rangeLocksOrderOverlappingWritesOnly() async throws {
        let table = RangeLockTable()
        let first = try await table.lock(lba: 0, count: 8, exclusive: true, nexus: UnitFixture.a)
        // A disjoint range goes straight in.
        let disjoint = try await table.lock(lba: 8, count: 8, exclusive: true, nexus: UnitFixture.b)
        #expect(table.heldCount == 2)
        let waiting = Task { try await table.lock(lba: 4, count: 1, exclusive: false, nexus: UnitFixture.b) }
        try await Task.sleep(for: .milliseconds(20))
        #expect(table.heldCount == 2)
        table.unlock(first)
        let reader = try await waiting.value
        #expect(table.heldCount == 2)
        // An aborted waiter ends with .aborted and holds nothing.
        let blocked = Task { try await table.lock(lba: 4, count: 1, exclusive: true, nexus: UnitFixture.a) }
        try await Task.sleep(for: .milliseconds(20))
        table.abortWaiters(of: UnitFixture.a)
        await #expect(throws: RangeLockTable.WaitError.self) { try await blocked.value }
        table.unlock(reader)
        table.unlock(disjoint)
        #expect(table.heldCount == 0)
    }
}
