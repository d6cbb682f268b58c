// A bounded load against a device: `depth` workers issuing one kind of I/O back to back until
// a deadline, recording when each completed.

import BlockDevice
import Foundation
import NIOCore

struct LoadDriver {
    enum Kind { case read, write }

    var depth: Int
    var blocks: Int
    var kind: Kind = .read
    /// Bounds the run whatever the device does.
    var maximumIOs = 200_000

    /// Completion times in seconds since the start, sorted; every I/O must succeed.
    func run(_ device: any BlockDevice, for seconds: Double, area: Int = 4096, from start: ContinuousClock.Instant = .now) async throws -> [Double] {
        let deadline = start + .milliseconds(Int64(seconds * 1000))
        let data = ByteBuffer(repeating: 0x5A, count: blocks * device.geometry.blockSize)
        let times = try await withThrowingTaskGroup(of: [Double].self) { group in
            for worker in 0..<depth {
                group.addTask {
                    var times: [Double] = []
                    var lba = UInt64((worker * blocks) % max(1, area - blocks))
                    // Each worker's share of the bound.
                    while ContinuousClock.now < deadline, times.count < maximumIOs / depth {
                        switch kind {
                        case .read: _ = try await device.read(at: lba, blockCount: blocks)
                        case .write: try await device.write(data, at: lba, fua: false)
                        }
                        let elapsed = ContinuousClock.now - start
                        times.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                        lba = (lba + UInt64(blocks * depth)) % UInt64(max(1, area - blocks))
                    }
                    return times
                }
            }
            var all: [Double] = []
            for try await times in group { all += times }
            return all
        }
        return times.sorted()
    }
}

func count(_ times: [Double], from: Double, to: Double) -> Int {
    times.lazy.filter { $0 >= from && $0 < to }.count
}
