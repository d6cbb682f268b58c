// Revoking a multipath device's commands over real tgtd sessions: writes waiting for a path
// (every path down) fail at once as fenced and never land, and the paths open again for the
// commands that follow.

import BlockDevice
import Foundation
import ISCSI
import NIOCore
import Paths
import Testing
import TestSupport

extension MultipathTgtTests {
    @Test func revokedWritesWaitingForAPathFailAtOnceAndNeverLand() async throws {
        try await withTgt(Self.configuration()) { tgt in
            let device = try await MultipathDevice.open(
                name: "lun", paths: [try Self.path("a", tgt), try Self.path("b", tgt)],
                options: Self.options(.roundRobin(ios: 1, bytes: 1 << 30))
            )
            defer { Task { try? await device.close() } }
            let before = TestPattern.bytes(seed: 21, count: 512)
            for lba in 10..<14 { try await device.write(before, at: UInt64(lba)) }

            // With nothing outstanding, a revocation resets every path's connection and leaves
            // the paths to the prober, with no penalty towards damping: no fault of theirs.
            await device.revokeOutstandingCommands(reason: "an idle revocation")
            #expect(device.snapshot.paths.allSatisfy { $0.counters.failures == 0 }, "\(device.snapshot.paths)")
            #expect(await Self.waitUntil(.seconds(10)) { device.snapshot.health == .optimal }, "\(device.snapshot.paths.map(\.reason))")
            #expect(try await device.read(at: 10, blockCount: 1) == before)

            await tgt.crash()
            let after = TestPattern.bytes(seed: 22, count: 512)
            let writers = (10..<14).map { lba in
                Task { () -> BlockDeviceError? in
                    do {
                        try await device.write(after, at: UInt64(lba))
                        return nil
                    } catch let error as BlockDeviceError {
                        return error
                    }
                }
            }
            #expect(await Self.waitUntil(.seconds(10)) { device.snapshot.health == .allPathsDown }, "\(device.snapshot.paths.map(\.reason))")
            let revoked = ContinuousClock.now
            await device.revokeOutstandingCommands(reason: "test fence 51c2")
            for writer in writers {
                let failure = try await writer.value
                #expect(failure?.code == .fenced && failure?.message.contains("test fence 51c2") == true, "\(String(describing: failure))")
            }
            #expect(ContinuousClock.now - revoked < .seconds(2), "answered at once, not at the APD timeout")

            // The target returns: the prober opens the paths, later commands run, and none of
            // the revoked writes went out on them.
            try await tgt.restart()
            #expect(await Self.waitUntil(.seconds(15)) { device.snapshot.health == .optimal }, "\(device.snapshot.paths.map(\.reason))")
            try await Task.sleep(for: .seconds(1))
            for lba in 10..<14 {
                #expect(try await device.read(at: UInt64(lba), blockCount: 1) == before, "LBA \(lba) holds what was written before the revocation")
            }
            try await device.write(after, at: 20)
            #expect(try await device.read(at: 20, blockCount: 1) == after)
        }
    }
}
