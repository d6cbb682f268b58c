// A verified random write+read load for multipath tests: every worker owns its own blocks, every
// acknowledged write is remembered, reads check the last acknowledged content, and the longest
// single I/O is measured.

import BlockDevice
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import TestSupport

/// What a run of `MultipathLoad` saw.
struct MultipathLoadReport: Sendable, CustomStringConvertible {
    var operations = 0
    var errors: [String] = []
    var miscompares: [String] = []
    var longestStall: Duration = .zero

    var description: String {
        "\(operations) I/Os, \(errors.count) errors \(errors.prefix(3)), \(miscompares.count) miscompares \(miscompares.prefix(3)), longest I/O \(longestStall)"
    }
}

enum MultipathLoad {
    /// Runs `workers` writers/readers on `device` until `shouldStop` or `limit` I/Os each. Worker
    /// w owns blocks w, w + workers, …; a write stamps (block, generation); a read of an owned
    /// block must hold its last acknowledged generation. Afterwards every written block is read
    /// back once more. Never stops at the first error.
    static func run(
        _ device: any BlockDevice,
        workers: Int = 32,
        blocksPerWorker: Int = 64,
        limit: Int = 20_000,
        shouldStop: @escaping @Sendable () -> Bool
    ) async -> MultipathLoadReport {
        let report = NIOLockedValueBox(MultipathLoadReport())
        let blockSize = device.geometry.blockSize
        @Sendable func stamp(_ block: UInt64, _ generation: Int) -> ByteBuffer {
            TestPattern.bytes(seed: block &* 1_000_003 &+ UInt64(generation), count: blockSize)
        }
        let acknowledged = NIOLockedValueBox<[UInt64: Int]>([:])
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var generations: [UInt64: Int] = [:]
                    var random = SystemRandomNumberGenerator()
                    for _ in 0..<limit where !shouldStop() {
                        let block = UInt64(worker + workers * Int.random(in: 0..<blocksPerWorker, using: &random))
                        let started = ContinuousClock.now
                        do {
                            if Bool.random(using: &random) || generations[block] == nil {
                                let generation = (generations[block] ?? 0) + 1
                                try await device.write(stamp(block, generation), at: block)
                                generations[block] = generation
                                acknowledged.withLockedValue { $0[block] = generation }
                            } else {
                                let data = try await device.read(at: block, blockCount: 1)
                                if data != stamp(block, generations[block]!) {
                                    report.withLockedValue { $0.miscompares.append("block \(block) does not hold generation \(generations[block]!)") }
                                }
                            }
                        } catch {
                            report.withLockedValue { $0.errors.append("\(error)") }
                        }
                        let took = ContinuousClock.now - started
                        report.withLockedValue { report in
                            report.operations += 1
                            report.longestStall = max(report.longestStall, took)
                        }
                    }
                }
            }
        }
        for (block, generation) in acknowledged.withLockedValue({ $0 }) {
            do {
                let data = try await device.read(at: block, blockCount: 1)
                if data != stamp(block, generation) {
                    report.withLockedValue { $0.miscompares.append("acknowledged write of block \(block) (generation \(generation)) did not read back") }
                }
            } catch {
                report.withLockedValue { $0.errors.append("read-back of block \(block): \(error)") }
            }
        }
        return report.withLockedValue { $0 }
    }
}
