// The libiscsi engine's own behaviour against a real tgtd: CHAP from its configuration, keepalive,
// reconnect, a killed target (no CPU spin, bounded failure) and the soak Scripts/leakcheck runs.

import BlockDevice
import Foundation
import NIOCore
import Testing
import TestSupport

@testable import LibISCSI

extension LibISCSIIntegration {
@Suite("LibISCSI engine")
struct LibISCSIEngineTests {
    static let iqn = "iqn.2026-11.org.vdiskd.test:libiscsi"
    /// LUN 1 holds data; LUN 2 is tgt's null store, for load that needs no verification.
    static let configuration = TgtConfiguration(targets: [
        TgtTargetSpec(iqn: iqn, luns: [.file(1, size: 64 << 20), .null(2)]),
    ])

    /// CHAP in `LibISCSIConfiguration` wins over credentials in the URL (the CLI's
    /// secret files rely on it), for the target's side of mutual CHAP too.
    @Test func chapInTheConfigurationWinsOverTheURL() async throws {
        let chap = CHAPAuthentication.mutual(user: "alice", secret: "alice-secret-12", targetUser: "target", targetSecret: "target-secret-1")
        let configuration = TgtConfiguration(targets: [TgtTargetSpec(iqn: Self.iqn, luns: [.file(1, size: 8 << 20)], chap: chap)])
        try await withTgt(configuration) { tgt in
            let wrong = CHAPAuthentication.mutual(user: "alice", secret: "wrong-secret-1", targetUser: "target", targetSecret: "wrong-secret-2")
            let device = try await LibISCSIDevice.connect(
                url: tgt.portal.libiscsiURL(target: Self.iqn, lun: 1, chap: wrong),
                configuration: LibISCSIConfiguration(chap: LibISCSIConfiguration.CHAP(
                    user: "alice",
                    secret: "alice-secret-12",
                    targetUser: "target",
                    targetSecret: "target-secret-1"
                ))
            )
            let data = TestPattern.bytes(seed: 3, count: 4096)
            try await device.write(data, at: 0)
            #expect(try await device.read(at: 0, blockCount: 8) == data)
            try await device.close()
        }
    }

    @Test func keepaliveSendsNOPsWhileIdle() async throws {
        try await withTgt(Self.configuration) { tgt in
            let configuration = LibISCSIConfiguration(nopInterval: .milliseconds(200), tickInterval: .milliseconds(50))
            let device = try await LibISCSIDevice.connect(url: tgt.url(Self.iqn, lun: 1), configuration: configuration)
            try await Task.sleep(for: .milliseconds(1200))
            let statistics = device.statistics
            #expect(statistics.nopsSent >= 3)
            // The target answered them all: no reconnect was needed.
            #expect(statistics.reconnectsRequested == 0)
            _ = try await device.read(at: 0, blockCount: 1)
            try await device.close()
        }
    }

    /// libiscsi issue #241: with the target dead, a poll loop that services a hung-up
    /// socket without ever blocking spins a core. Measures the engine thread's CPU
    /// time (exactly ours, whatever else the test process runs) and the process's
    /// (getrusage), and checks a pending call fails within the command timeout.
    @Test func killedTargetCostsNoCPUAndFailsPendingCallsInTime() async throws {
        try await withTgt(Self.configuration) { tgt in
            let configuration = LibISCSIConfiguration(
                commandTimeout: .seconds(3),
                nopInterval: .milliseconds(500),
                nopTimeout: .seconds(1)
            )
            let device = try await LibISCSIDevice.connect(url: tgt.url(Self.iqn, lun: 1), configuration: configuration)
            let blockSize = device.geometry.blockSize
            try await device.write(TestPattern.bytes(seed: 1, count: blockSize), at: 0)

            await tgt.kill()
            let killedAt = ContinuousClock.now

            // A call made after the kill fails (or succeeds after a reconnect) within the timeout.
            let outcome: Result<ByteBuffer, any Error>
            do {
                outcome = .success(try await device.read(at: 0, blockCount: 1))
            } catch {
                outcome = .failure(error)
            }
            let waited = ContinuousClock.now - killedAt
            #expect(waited < .seconds(3) + .seconds(1), "the call took \(waited)")
            switch outcome {
            case .success:
                Issue.record("the target is dead; the read cannot have succeeded")
            case .failure(let error):
                let code = (error as? BlockDeviceError)?.code
                #expect(code == .timeout || code == .transport, "got \(error)")
            }

            // Now idle with a dead target and libiscsi reconnecting: measure 3 s.
            let threadBefore = try #require(await device.engineThreadResourceUsage())
            let clockBefore = try #require(device.engineThreadCPUTime)
            let processBefore = ProcessCPU.now()
            let wakeupsBefore = device.statistics.wakeups
            try await Task.sleep(for: .seconds(3))
            let threadUsed = try #require(await device.engineThreadResourceUsage()) - threadBefore
            let clockUsed = try #require(device.engineThreadCPUTime) - clockBefore
            let processUsed = ProcessCPU.now() - processBefore
            let wakeups = device.statistics.wakeups - wakeupsBefore
            let threadShare = Double(threadUsed.nanoseconds) / 3e9
            print(
                "killed target: engine thread getrusage \(threadUsed.nanoseconds / 1000) µs, CPU clock \(clockUsed.nanoseconds / 1000) µs over 3 s; "
                    + "whole process (other suites included) \(processUsed / 1000) µs; \(wakeups) wake-ups"
            )
            // The engine thread is ours alone, so this holds whatever else the process runs.
            #expect(threadShare < 0.02, "engine thread used \(threadShare * 100) % of a core")
            #expect(Double(clockUsed.nanoseconds) / 3e9 < 0.02)
            // About 4 ticks and at most 10 back-off polls a second; a spin makes millions.
            #expect(wakeups < 200)

            // Closing while libiscsi is still trying to reconnect is prompt too.
            let closing = ContinuousClock.now
            try await device.close()
            #expect(ContinuousClock.now - closing < .seconds(3))
        }
    }

    @Test func commandsQueuedAcrossAKeepaliveReconnectComplete() async throws {
        try await withTgt(Self.configuration) { tgt in
            let configuration = LibISCSIConfiguration(nopInterval: .milliseconds(200), tickInterval: .milliseconds(50))
            let device = try await LibISCSIDevice.connect(url: tgt.url(Self.iqn, lun: 1), configuration: configuration)
            let data = TestPattern.bytes(seed: 4, count: device.geometry.blockSize * 8)
            try await device.write(data, at: 64)
            // Reconnect as the keepalive would, with reads queued behind it.
            await device.loop.reconnect()
            try await withThrowingTaskGroup(of: ByteBuffer.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await device.read(at: 64, blockCount: 8) }
                }
                for try await back in group { #expect(back == data) }
            }
            #expect(device.statistics.reconnectsRequested == 1)
            try await device.close()
        }
    }

    /// The bounded soak Scripts/leakcheck runs under valgrind with
    /// VDISK_SOAK_IOS=100000 and VDISK_SOAK_CYCLES=100; by default a short run.
    @Test func soakOfIOsAndConnectCycles() async throws {
        let environment = ProcessInfo.processInfo.environment
        let ioCount = environment["VDISK_SOAK_IOS"].flatMap(Int.init) ?? 4000
        let cycles = environment["VDISK_SOAK_CYCLES"].flatMap(Int.init) ?? 5
        try await withTgt(Self.configuration) { tgt in
            let url = tgt.url(Self.iqn, lun: 2)
            let device = try await LibISCSIDevice.connect(url: url)
            let block = TestPattern.bytes(seed: 8, count: 4096)
            let depth = 16
            let perWorker = ioCount / depth
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<depth {
                    group.addTask {
                        for index in 0..<perWorker {
                            let lba = UInt64((worker * perWorker + index) % 4096) * 8
                            if index % 2 == 0 {
                                try await device.write(block, at: lba)
                            } else {
                                #expect(try await device.read(at: lba, blockCount: 8).readableBytes == 4096)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            try await device.close()
            for _ in 0..<cycles {
                let cycle = try await LibISCSIDevice.connect(url: url)
                _ = try await cycle.read(at: 0, blockCount: 8)
                try await cycle.close()
            }
        }
    }
}
}
