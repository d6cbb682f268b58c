// Session recovery of the native initiator against a real tgtd: a connection deleted under
// a running I/O loop, tgtd crashing and coming back on the same port, and tgtd staying
// away longer than the recovery timeout.

import BlockDevice
import Foundation
import ISCSI
import ISCSIAddress
import NIOConcurrencyHelpers
import NIOCore
import Testing
import TestSupport

extension InitiatorEngineTests {
@Suite(.timeLimit(.minutes(3)))
struct SessionRecoveryIntegrationTests {
    static let iqn = "iqn.2026-11.org.vdiskd.test:recovery"
    static let spec = TgtTargetSpec(iqn: iqn, luns: [.file(1, size: 16 << 20)])

    /// The native LUN with short timers, so a lost connection is seen and replaced in seconds.
    static func connect(_ tgt: TgtTarget, recoveryTimeout: TimeAmount) async throws -> ISCSILUN {
        let url = try ISCSITargetURL(parsing: tgt.url(iqn, lun: 1))
        var configuration = ISCSISessionConfiguration(portal: url.portal, targetName: url.targetName)
        configuration.connectTimeout = .seconds(2)
        configuration.loginTimeout = .seconds(5)
        configuration.recoveryTimeout = recoveryTimeout
        return try await ISCSILUN.connect(url, configuration: configuration)
    }

    /// Connects, checks one block, crashes tgtd under the LUN and runs `body`.
    static func withCrashedTarget(recoveryTimeout: TimeAmount, _ body: (TgtTarget, ISCSILUN) async throws -> Void) async throws {
        try await withTgt(TgtConfiguration(targets: [spec])) { tgt in
            let lun = try await connect(tgt, recoveryTimeout: recoveryTimeout)
            #expect(try await writeAndCheck(lun, index: 0))
            await tgt.crash()
            try await body(tgt, lun)
        }
    }

    /// Writes block `index` (4 KiB at LBA index × 8) with its own pattern and reads it back.
    static func writeAndCheck(_ lun: ISCSILUN, index: Int) async throws -> Bool {
        let data = TestPattern.bytes(seed: UInt64(index) + 1, count: 4096)
        try await lun.write(data, at: UInt64(index * 8))
        return try await lun.read(at: UInt64(index * 8), blockCount: 8) == data
    }

    /// The LUN's recovery events until it reports `.reconnected` or `.failed`, bounded.
    static func recoveryEvents(_ lun: ISCSILUN) -> Task<[RecoveryEvent], Never> {
        Task {
            var seen: [RecoveryEvent] = []
            for await event in lun.events {
                guard case .recovery(let step) = event else { continue }
                seen.append(step)
                switch step {
                case .reconnected, .failed: return seen
                case .lost, .attemptFailed: continue
                }
            }
            return seen
        }
    }

    @Test func aConnectionDeletedUnderRunningIOIsReplaced() async throws {
        try await withTgt(TgtConfiguration(targets: [Self.spec])) { tgt in
            let lun = try await Self.connect(tgt, recoveryTimeout: .seconds(30))
            let events = Self.recoveryEvents(lun)
            let done = NIOLockedValueBox(0)
            let blocks = 1000
            let loop = Task {
                var mismatches: [Int] = []
                let started = ContinuousClock.now
                for index in 0..<blocks where ContinuousClock.now - started < .seconds(60) {
                    if try await !Self.writeAndCheck(lun, index: index) { mismatches.append(index) }
                    done.withLockedValue { $0 += 1 }
                }
                return mismatches
            }
            // Delete the connection once the loop is well under way.
            let waitStarted = ContinuousClock.now
            while done.withLockedValue({ $0 }) < 40, ContinuousClock.now - waitStarted < .seconds(30) {
                try await Task.sleep(for: .milliseconds(5))
            }
            let dropped = try await tgt.dropConnections(tid: 1)
            #expect(dropped == 1)
            let doneAtDrop = done.withLockedValue { $0 }
            #expect(doneAtDrop < blocks, "the connection went while the loop still ran")

            let mismatches = try await loop.value
            #expect(mismatches.isEmpty, "blocks that read back wrong: \(mismatches)")
            #expect(done.withLockedValue { $0 } == blocks, "every command completed")
            #expect(lun.reconnections == 1)
            #expect(lun.recoveryState == .connected)
            #expect(try await tgt.connections(tid: 1).count == 1)
            // Closing ends the event stream, so collecting the events cannot hang.
            try await lun.close()
            let steps = await events.value
            #expect(steps.first.map { if case .lost = $0 { true } else { false } } == true, "\(steps)")
            #expect(steps.last.map { if case .reconnected(_, _, 1) = $0 { true } else { false } } == true, "\(steps)")
            // The bytes are in the target's backing file.
            let file = try Data(contentsOf: URL(fileURLWithPath: try #require(tgt.target(Self.iqn)?.lun(1)?.backingFile)))
            for index in [0, 39, 40, 41, 150, 600, blocks - 1] {
                let expected = TestPattern.bytes(seed: UInt64(index) + 1, count: 4096)
                #expect(file[(index * 4096)..<((index + 1) * 4096)] == Data(expected.readableBytesView), "block \(index) in the backing file")
            }
        }
    }

    @Test func commandsIssuedWhileTgtdIsDownCompleteWhenItComesBack() async throws {
        try await Self.withCrashedTarget(recoveryTimeout: .seconds(60)) { tgt, lun in
            let outageStarted = ContinuousClock.now
            let writers = (1...4).map { index in Task { try await Self.writeAndCheck(lun, index: index) } }
            // The target stays away long enough for several failed logins.
            try await Task.sleep(for: .seconds(2))
            guard case .recovering(_, let attempts) = lun.recoveryState else {
                Issue.record("expected recovering during the outage, got \(lun.recoveryState)")
                return
            }
            #expect(attempts >= 2)
            try await tgt.restart()
            for writer in writers {
                #expect(try await writer.value, "a command issued during the outage read back its data")
            }
            #expect(ContinuousClock.now - outageStarted < .seconds(30))
            #expect(lun.reconnections == 1)
            #expect(try await Self.writeAndCheck(lun, index: 0))
            try await lun.close()
        }
    }

    @Test func aTargetAwayLongerThanTheRecoveryTimeoutFailsTheLUN() async throws {
        try await Self.withCrashedTarget(recoveryTimeout: .seconds(2)) { tgt, lun in
            let started = ContinuousClock.now
            var failure: BlockDeviceError?
            do {
                _ = try await lun.read(at: 0, blockCount: 8)
            } catch let error as BlockDeviceError {
                failure = error
            }
            let took = ContinuousClock.now - started
            let error = try #require(failure, "a read during the outage must fail")
            #expect(error.code == .transport)
            #expect(error.message.contains(Self.iqn), "\(error)")
            #expect(error.message.contains(tgt.portal.description), "\(error)")
            #expect(error.message.contains("recovery timeout 2.0 s"), "\(error)")
            #expect(took >= .seconds(1) && took < .seconds(6), "failed after \(took)")
            guard case .failed = lun.recoveryState else {
                Issue.record("expected failed, got \(lun.recoveryState)")
                return
            }
            // Later commands fail at once, and close still returns.
            let again = ContinuousClock.now
            await #expect(throws: BlockDeviceError.self) { try await lun.write(TestPattern.bytes(seed: 9, count: 512), at: 0) }
            #expect(ContinuousClock.now - again < .seconds(1))
            try await lun.close()
        }
    }
}
}
