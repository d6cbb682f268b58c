// The libiscsi engine's own behaviour against a real tgtd: SCSI errors mapped like
// the native engine's, keepalive, a killed target (no CPU spin, bounded failure),
// and the bounded soak that Scripts/leakcheck runs under valgrind.

import BlockDevice
import Foundation
import NIOCore
import SCSI
import Testing

@testable import LibISCSI

extension LibISCSIIntegration {
@Suite("LibISCSI engine")
struct LibISCSIEngineTests {
    @Test func targetSenseMapsToBlockDeviceCodes() async throws {
        try await ScratchTarget.with(.tgt) { target in
            let device = try await LibISCSIDevice.connect(url: target.url())
            let end = device.geometry.blockCount
            // Past the end, sent raw so the target (not our range check) refuses it.
            do {
                _ = try await device.run(CDB.read16(lba: end, blockCount: 1), name: "READ(16)", dataIn: 512)
                Issue.record("a read past the end must fail")
            } catch let error as BlockDeviceError {
                #expect(error.code == .outOfRange)
                let scsi = try #require(error.underlying as? SCSICommandError)
                #expect(scsi.status == .checkCondition)
                #expect(scsi.senseKey == .illegalRequest)
            }
            // An opcode nobody implements.
            do {
                _ = try await device.run([0xFE, 0, 0, 0, 0, 0], name: "VENDOR 0xFE")
                Issue.record("an unknown opcode must fail")
            } catch let error as BlockDeviceError {
                #expect(error.code == .notSupported)
            }
            try await device.close()
        }
    }

    @Test func keepaliveSendsNOPsWhileIdle() async throws {
        try await ScratchTarget.with(.tgt) { target in
            let configuration = LibISCSIConfiguration(nopInterval: .milliseconds(200), tickInterval: .milliseconds(50))
            let device = try await LibISCSIDevice.connect(url: target.url(), configuration: configuration)
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
        try await ScratchTarget.with(.tgt) { target in
            let configuration = LibISCSIConfiguration(
                commandTimeout: .seconds(3),
                nopInterval: .milliseconds(500),
                maximumMissedNOPs: 2
            )
            let device = try await LibISCSIDevice.connect(url: target.url(), configuration: configuration)
            let blockSize = device.geometry.blockSize
            try await device.write(TestPattern.bytes(blockSize, seed: 1), at: 0)

            target.kill()
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
        try await ScratchTarget.with(.tgt) { target in
            let configuration = LibISCSIConfiguration(nopInterval: .milliseconds(200), tickInterval: .milliseconds(50))
            let device = try await LibISCSIDevice.connect(url: target.url(), configuration: configuration)
            let data = TestPattern.bytes(device.geometry.blockSize * 8, seed: 4)
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
        try await ScratchTarget.with(.tgt) { target in
            let nullLUN = try #require(target.nullLUN)
            let url = target.url(lun: nullLUN)
            let device = try await LibISCSIDevice.connect(url: url)
            let block = TestPattern.bytes(4096, seed: 8)
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
