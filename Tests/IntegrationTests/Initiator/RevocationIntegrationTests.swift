// `revokeOutstandingCommands` on both engines against a real tgtd: writes waiting for a
// reconnection (tgtd crashed) fail at once as fenced and never land once tgtd is back, a
// command stuck on a silent target does not hang its caller, and the LUN serves later
// commands on a new connection. What a fencing datastore relies on (docs/DATASTORE.md).

import BlockDevice
import Foundation
import ISCSI
import ISCSIAddress
import LibISCSI
import NIOCore
import Testing
import TestSupport

extension InitiatorEngineTests {
@Suite(.timeLimit(.minutes(3)))
struct RevocationIntegrationTests {
    static let iqn = "iqn.2026-12.org.vdiskd.test:revocation"
    static let spec = TgtTargetSpec(iqn: iqn, luns: [.file(1, size: 16 << 20)])
    static let reason = "test fence 7f3a"

    static func block(_ index: Int, seed: UInt64) -> ByteBuffer {
        TestPattern.bytes(seed: seed &* 1000 &+ UInt64(index), count: 4096)
    }

    /// The 4 KiB block `index` of the LUN's backing file.
    static func onDisk(_ tgt: TgtTarget, _ index: Int) throws -> ByteBuffer {
        let path = try #require(tgt.target(iqn)?.lun(1)?.backingFile)
        let file = try Data(contentsOf: URL(fileURLWithPath: path))
        return ByteBuffer(bytes: file[(index * 4096)..<((index + 1) * 4096)])
    }

    /// How `body` ended: the error code and message, or nil when it succeeded.
    static func outcome(_ body: @escaping @Sendable () async throws -> Void) async -> (BlockDeviceError.Code, String)? {
        do {
            try await body()
            return nil
        } catch let error as BlockDeviceError {
            return (error.code, error.message)
        } catch {
            return (.deviceError, "\(error)")
        }
    }

    @Test(arguments: InitiatorEngine.allCases)
    func writesWaitingForAReconnectionFailAtOnceAndNeverLand(engine: InitiatorEngine) async throws {
        try await withTgt(TgtConfiguration(targets: [Self.spec])) { tgt in
            let device = try await engine.open(tgt.url(Self.iqn, lun: 1), offer: InitiatorOffer(loginTimeout: .seconds(2)))
            for index in 1...4 { try await device.write(Self.block(index, seed: 1), at: UInt64(index * 8)) }
            await tgt.crash()
            // Each writer's command fails on the dead connection and waits for a reconnection.
            let writers = (1...4).map { index in
                Task { await Self.outcome { try await device.write(Self.block(index, seed: 2), at: UInt64(index * 8)) } }
            }
            try await Task.sleep(for: .seconds(1.5))
            if let lun = device as? ISCSILUN {
                #expect(lun.recoveryState.isRecovering, "the native LUN is logging in again: \(lun.recoveryState)")
            }
            let revoked = ContinuousClock.now
            await device.revokeOutstandingCommands(reason: Self.reason)
            for writer in writers {
                let outcome = await writer.value
                #expect(outcome?.0 == .fenced, "a waiting write failed as fenced: \(String(describing: outcome))")
                #expect(outcome?.1.contains(Self.reason) == true, "the error names the revocation: \(String(describing: outcome))")
            }
            #expect(ContinuousClock.now - revoked < .seconds(2), "the writers were answered at once, not after the outage")

            // tgtd comes back; a new command logs in and runs, and none of the revoked writes
            // was sent on the new connection.
            try await tgt.restart()
            try await device.write(Self.block(5, seed: 3), at: 40)
            #expect(try await device.read(at: 40, blockCount: 8) == Self.block(5, seed: 3))
            try await Task.sleep(for: .seconds(1))
            for index in 1...4 {
                #expect(try await device.read(at: UInt64(index * 8), blockCount: 8) == Self.block(index, seed: 1), "block \(index) still holds what was written before the revocation")
                #expect(try Self.onDisk(tgt, index) == Self.block(index, seed: 1), "block \(index) in the backing file")
            }
            try await device.close()
        }
    }

    @Test(arguments: InitiatorEngine.allCases)
    func aCommandStuckOnASilentTargetDoesNotHangItsCallerAndTheLUNGoesOn(engine: InitiatorEngine) async throws {
        try await withTgt(TgtConfiguration(targets: [Self.spec])) { tgt in
            let device = try await engine.open(tgt.url(Self.iqn, lun: 1), offer: InitiatorOffer(loginTimeout: .seconds(5)))
            try await device.write(Self.block(0, seed: 1), at: 0)
            tgt.freeze()
            let stuck = Task { await Self.outcome { try await device.write(Self.block(0, seed: 2), at: 0) } }
            try await Task.sleep(for: .milliseconds(500))
            let revoked = ContinuousClock.now
            await device.revokeOutstandingCommands(reason: Self.reason)
            let outcome = await stuck.value
            #expect(outcome?.0 == .fenced, "the stuck write failed as fenced: \(String(describing: outcome))")
            #expect(ContinuousClock.now - revoked < .seconds(2))
            tgt.thaw()
            // tgtd had received the stuck write, so it may have run it; the LUN itself goes on
            // on a new connection.
            let after = Self.block(1, seed: 3)
            try await device.write(after, at: 8)
            #expect(try await device.read(at: 8, blockCount: 8) == after)
            if let lun = device as? ISCSILUN {
                #expect(lun.reconnections == 1, "the reset connection was replaced once")
            }
            try await device.close()
        }
    }
}
}
