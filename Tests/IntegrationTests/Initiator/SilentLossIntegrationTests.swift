// A path's silent loss on both engines, opened as the Paths layer opens a path: keepalive
// 1 s / 1 s and recovery off. tgtd is frozen with SIGSTOP under a QD4 read loop (no FIN, no
// RST: only the keepalive can tell), and every command in flight must fail with .transport
// within 4 s, later ones at once, and nothing may hang.

import BlockDevice
import Foundation
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

    @Test(arguments: InitiatorEngine.allCases)
    func aFrozenTargetFailsEveryCommandWithTransportWithinTheKeepalive(engine: InitiatorEngine) async throws {
        try await withTgt(TgtConfiguration(targets: [Self.spec])) { tgt in
            var offer = InitiatorOffer()
            offer.keepalive = (interval: .seconds(1), timeout: .seconds(1))
            offer.failFast = true
            let device = try await engine.open(tgt.url(Self.iqn, lun: 1), offer: offer)
            let blocks = device.geometry.blockCount
            let completed = NIOLockedValueBox(0)
            // Each reader runs until its first error, bounded in count and time.
            let loops = (0..<Self.readers).map { _ in
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
            defer { for loop in loops { loop.cancel() } }
            let warmup = ContinuousClock.now
            while completed.withLockedValue({ $0 }) < 200, ContinuousClock.now - warmup < .seconds(20) {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(completed.withLockedValue { $0 } >= 200, "the read loop did not get going")

            tgt.freeze()
            let frozenAt = ContinuousClock.now
            defer { tgt.thaw() }
            var endings: [Ending] = []
            for loop in loops { endings.append(await loop.value) }

            let slowest = endings.map { $0.at - frozenAt }.max() ?? .zero
            print("\(engine): \(Self.readers) in-flight reads failed \(endings.map { $0.at - frozenAt }) after SIGSTOP (slowest \(slowest))")
            #expect(slowest <= Self.detectionBound, "\(engine): the last in-flight read failed \(slowest) after the freeze")
            for ending in endings {
                #expect(ending.error != nil, "\(engine): a reader ran on for a minute against a frozen target")
                if let error = ending.error {
                    #expect((error as? BlockDeviceError)?.code == .transport, "\(engine): \(error)")
                }
            }

            // Later commands fail at once, with the same code.
            let later = ContinuousClock.now
            await #expect(throws: BlockDeviceError.self) { _ = try await device.read(at: 0, blockCount: 1) }
            do {
                try await device.write(ByteBuffer(repeating: 7, count: device.geometry.blockSize), at: 0)
                Issue.record("\(engine): a write after the loss succeeded against a frozen target")
            } catch {
                #expect((error as? BlockDeviceError)?.code == .transport, "\(engine): \(error)")
            }
            let tookLater = ContinuousClock.now - later
            #expect(tookLater < .milliseconds(500), "\(engine): commands after the loss took \(tookLater)")

            // Closing a device whose target is frozen returns too.
            let closing = ContinuousClock.now
            try? await device.close()
            let tookClose = ContinuousClock.now - closing
            print("\(engine): close after the loss took \(tookClose)")
            #expect(tookClose < .seconds(5))
        }
    }
}
}
