// A path's silent loss on both engines, opened as the Paths layer opens a path: keepalive
// 1 s / 1 s and recovery off. tgtd is frozen with SIGSTOP under a QD4 read loop (no FIN, no
// RST: only the keepalive can tell), and every command in flight must fail with .transport
// within 4 s, later ones at once, and nothing may hang.

import BlockDevice
import Foundation
import ISCSI
import LibISCSI
import NIOConcurrencyHelpers
import NIOCore
import Testing
import TestSupport

extension InitiatorEngineTests {
@Suite(.timeLimit(.minutes(2)))
struct SilentLossIntegrationTests {
    static let iqn = "iqn.2026-11.org.vdiskd.test:silent-loss"
    static let spec = TgtTargetSpec(iqn: iqn, luns: [.file(1, size: 16 << 20)])
    /// The bound the issue sets for a 1 s / 1 s keepalive.
    static let detectionBound: Duration = .seconds(4)
    static let readers = 4

    /// How one reader's loop ended: when, and with what.
    struct Ending: Sendable {
        var at: ContinuousClock.Instant
        var error: (any Error)?
        var reads: Int
    }

    /// Opens the LUN as a path is opened: keepalive 1 s / 1 s, recovery off.
    static func openPath(_ engine: InitiatorEngine, _ tgt: TgtTarget) async throws -> any BlockDevice {
        var offer = InitiatorOffer()
        offer.keepalive = (interval: .seconds(1), timeout: .seconds(1))
        offer.failFast = true
        return try await engine.open(tgt.url(iqn, lun: 1), offer: offer)
    }

    /// Starts `readers` loops of 4 KiB random reads, each running until its first error
    /// (bounded in count and time), and returns once 200 reads have completed.
    static func startReaders(_ device: any BlockDevice) async throws -> [Task<Ending, Never>] {
        let blocks = device.geometry.blockCount
        let completed = NIOLockedValueBox(0)
        let loops = (0..<readers).map { _ in
            Task { () -> Ending in
                let started = ContinuousClock.now
                var reads = 0
                while reads < 1_000_000, ContinuousClock.now - started < .seconds(60) {
                    do {
                        _ = try await device.read(at: UInt64.random(in: 0..<(blocks - 8)), blockCount: 8)
                    } catch {
                        return Ending(at: ContinuousClock.now, error: error, reads: reads)
                    }
                    reads += 1
                    completed.withLockedValue { $0 += 1 }
                }
                return Ending(at: ContinuousClock.now, error: nil, reads: reads)
            }
        }
        let warmup = ContinuousClock.now
        while completed.withLockedValue({ $0 }) < 200, ContinuousClock.now - warmup < .seconds(20) {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(completed.withLockedValue { $0 } >= 200, "the read loop did not get going")
        return loops
    }

    /// Waits for every reader, checks each ended with `.transport` within `bound` of `since`,
    /// then that later commands fail at once and close returns.
    static func expectEveryCommandFails(
        _ engine: InitiatorEngine,
        _ device: any BlockDevice,
        readers loops: [Task<Ending, Never>],
        since: ContinuousClock.Instant,
        within bound: Duration,
        what: String
    ) async {
        var endings: [Ending] = []
        for loop in loops { endings.append(await loop.value) }
        let slowest = endings.map { $0.at - since }.max() ?? .zero
        print("\(engine): \(readers) in-flight reads failed \(endings.map { $0.at - since }) after \(what) (slowest \(slowest))")
        #expect(slowest <= bound, "\(engine): the last in-flight read failed \(slowest) after \(what)")
        for ending in endings {
            #expect(ending.error != nil, "\(engine): a reader ran on for a minute after \(what)")
            if let error = ending.error {
                #expect((error as? BlockDeviceError)?.code == .transport, "\(engine): \(error)")
            }
        }

        // Each engine says the path is down, for the layer above to see without a command.
        switch engine {
        case .native:
            if case .failed = (device as? ISCSILUN)?.recoveryState {} else {
                Issue.record("native: the LUN is not failed: \(String(describing: (device as? ISCSILUN)?.recoveryState))")
            }
        case .libiscsi:
            #expect((device as? LibISCSIDevice)?.connectionLoss != nil, "libiscsi: no connection loss reported")
        }

        // Later commands fail at once, with the same code.
        let later = ContinuousClock.now
        await #expect(throws: BlockDeviceError.self) { _ = try await device.read(at: 0, blockCount: 1) }
        do {
            try await device.write(ByteBuffer(repeating: 7, count: device.geometry.blockSize), at: 0)
            Issue.record("\(engine): a write after \(what) succeeded")
        } catch {
            #expect((error as? BlockDeviceError)?.code == .transport, "\(engine): \(error)")
        }
        let tookLater = ContinuousClock.now - later
        #expect(tookLater < .milliseconds(500), "\(engine): commands after \(what) took \(tookLater)")

        let closing = ContinuousClock.now
        try? await device.close()
        let tookClose = ContinuousClock.now - closing
        print("\(engine): close after \(what) took \(tookClose)")
        #expect(tookClose < .seconds(5))
    }

    @Test(arguments: InitiatorEngine.allCases)
    func aFrozenTargetFailsEveryCommandWithTransportWithinTheKeepalive(engine: InitiatorEngine) async throws {
        try await withTgt(TgtConfiguration(targets: [Self.spec])) { tgt in
            let device = try await Self.openPath(engine, tgt)
            let loops = try await Self.startReaders(device)
            defer { for loop in loops { loop.cancel() } }
            tgt.freeze()
            let frozenAt = ContinuousClock.now
            defer { tgt.thaw() }
            await Self.expectEveryCommandFails(engine, device, readers: loops, since: frozenAt, within: Self.detectionBound, what: "SIGSTOP")
        }
    }

    /// With nothing in flight the keepalive alone finds the loss: the engine reports the
    /// path down before any command is sent, and the first one fails at once.
    @Test(arguments: InitiatorEngine.allCases)
    func anIdleFrozenPathIsReportedDownByTheKeepaliveAlone(engine: InitiatorEngine) async throws {
        try await withTgt(TgtConfiguration(targets: [Self.spec])) { tgt in
            let device = try await Self.openPath(engine, tgt)
            _ = try await device.read(at: 0, blockCount: 1)
            tgt.freeze()
            defer { tgt.thaw() }
            let frozenAt = ContinuousClock.now
            func reportedDown() -> Bool {
                switch engine {
                case .native:
                    if case .failed = (device as? ISCSILUN)?.recoveryState { return true }
                    return false
                case .libiscsi:
                    return (device as? LibISCSIDevice)?.connectionLoss != nil
                }
            }
            while !reportedDown(), ContinuousClock.now - frozenAt < .seconds(10) {
                try await Task.sleep(for: .milliseconds(50))
            }
            let took = ContinuousClock.now - frozenAt
            print("\(engine): idle path reported down \(took) after SIGSTOP")
            #expect(reportedDown() && took <= Self.detectionBound, "\(engine): not reported down after \(took)")
            let first = ContinuousClock.now
            do {
                _ = try await device.read(at: 0, blockCount: 1)
                Issue.record("\(engine): a read of a frozen target succeeded")
            } catch {
                #expect((error as? BlockDeviceError)?.code == .transport, "\(engine): \(error)")
            }
            #expect(ContinuousClock.now - first < .milliseconds(500))
            try? await device.close()
        }
    }

    /// A target that dies outright closes its sockets: no keepalive is needed, and a path
    /// with recovery off fails at once instead of reconnecting (libiscsi's default) or
    /// spinning on the hung-up socket.
    @Test(arguments: InitiatorEngine.allCases)
    func aCrashedTargetFailsEveryCommandAtOnce(engine: InitiatorEngine) async throws {
        try await withTgt(TgtConfiguration(targets: [Self.spec])) { tgt in
            let device = try await Self.openPath(engine, tgt)
            let loops = try await Self.startReaders(device)
            defer { for loop in loops { loop.cancel() } }
            let cpuBefore = (device as? LibISCSIDevice)?.engineThreadCPUTime
            let crashedAt = ContinuousClock.now
            await tgt.crash()
            await Self.expectEveryCommandFails(engine, device, readers: loops, since: crashedAt, within: .seconds(1), what: "SIGKILL")
            if let cpuBefore, let cpuAfter = (device as? LibISCSIDevice)?.engineThreadCPUTime {
                // The closed device's thread has ended by now; while it ran it did not spin.
                #expect(cpuAfter - cpuBefore < .milliseconds(500))
            }
        }
    }
}
}
