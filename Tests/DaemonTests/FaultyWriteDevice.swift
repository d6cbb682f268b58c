// An image file whose writes fail on a schedule, some after landing and some before, and
// whose reads can come back with one byte flipped: the faults `target bench --verify` must
// count without mistaking a failed write's possible outcomes for corruption.

import BlockDevice
import NIOCore
import Synchronization

final class FaultyWriteDevice: ForwardingBlockDevice, Sendable {
    let base: any BlockDevice
    /// Every `landedEvery`-th write reaches the file and then reports `.transport`; every
    /// `lostEvery`-th reports it without reaching the file. 0 turns either off.
    private let landedEvery: Int
    private let lostEvery: Int
    /// Reads covering this LBA return its first byte flipped.
    private let corruptLBA: UInt64?
    private let writes = Mutex(0)

    init(base: any BlockDevice, landedEvery: Int = 0, lostEvery: Int = 0, corruptLBA: UInt64? = nil) {
        self.base = base
        self.landedEvery = landedEvery
        self.lostEvery = lostEvery
        self.corruptLBA = corruptLBA
    }

    func write(_ data: ByteBuffer, at lba: UInt64, fua: Bool) async throws {
        let number = writes.withLock { count in
            count += 1
            return count
        }
        if lostEvery > 0, number % lostEvery == 0 {
            throw BlockDeviceError(.transport, "write \(number) lost before it reached the file")
        }
        try await base.write(data, at: lba, fua: fua)
        if landedEvery > 0, number % landedEvery == 0 {
            throw BlockDeviceError(.transport, "write \(number) landed but its answer was lost")
        }
    }

    func read(at lba: UInt64, blockCount: Int) async throws -> ByteBuffer {
        var data = try await base.read(at: lba, blockCount: blockCount)
        if let corruptLBA, (lba..<lba + UInt64(blockCount)).contains(corruptLBA) {
            let offset = data.readerIndex + Int(corruptLBA - lba) * geometry.blockSize
            if let byte = data.getInteger(at: offset, as: UInt8.self) { data.setInteger(~byte, at: offset) }
        }
        return data
    }
}
