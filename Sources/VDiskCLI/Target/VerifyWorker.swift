// One worker of `target bench --verify`: owns every slot whose index is its own modulo the
// queue depth, writes and reads them at random, and checks every read against what it
// knows was acknowledged.

import BlockDevice
import NIOCore

/// A worker's slots, its write generations and its tally. No two workers share a slot, and a
/// worker has one I/O in flight at a time, so what it knows about a slot is exact except
/// after a failed write, whose data may or may not have landed.
struct VerifyWorker {
    /// What a slot may hold.
    enum Slot {
        /// Not written in this run: its content is not ours to check.
        case unwritten
        /// The last write was acknowledged: every block holds this generation.
        case written(UInt64)
        /// Writes failed since the slot was last known: each block holds one of
        /// `generations` (the last known one and every failed write's since, any of which
        /// may have landed), or, with `old`, data from before our first acknowledged write.
        case uncertain(generations: [UInt64], old: Bool)
    }

    /// How long a worker waits after a failed I/O, so a dead device costs no busy loop.
    static let pauseAfterError: Duration = .milliseconds(10)

    let device: any BlockDevice
    let pattern: VerifyPattern
    let blocksPerIO: Int
    /// This worker's first slot, and the step to its next (the queue depth).
    let first: UInt64
    let stride: UInt64
    var slots: [Slot]
    var generation: UInt64 = 0
    var tally = VerifyTally()

    init(device: any BlockDevice, pattern: VerifyPattern, blocksPerIO: Int, worker: Int, workers: Int, totalSlots: UInt64) {
        self.device = device
        self.pattern = pattern
        self.blocksPerIO = blocksPerIO
        self.first = UInt64(worker)
        self.stride = UInt64(workers)
        let owned = totalSlots > first ? (totalSlots - first + stride - 1) / stride : 0
        self.slots = Array(repeating: .unwritten, count: Int(owned))
    }

    private func lba(of slot: Int) -> UInt64 {
        (first + UInt64(slot) * stride) * UInt64(blocksPerIO)
    }

    /// Random writes and reads (half each; a slot never written is written) until `ios` I/Os
    /// are done or `deadline` passes.
    mutating func load(ios: Int, until deadline: ContinuousClock.Instant) async {
        guard !slots.isEmpty else { return }
        var generator = SystemRandomNumberGenerator()
        var done = 0
        while done < ios, ContinuousClock.now < deadline {
            let slot = Int.random(in: 0..<slots.count, using: &generator)
            if case .unwritten = slots[slot] {
                await write(slot)
            } else if Bool.random(using: &generator) {
                await write(slot)
            } else {
                await read(slot)
            }
            done += 1
        }
    }

    /// Reads back every slot written in this run and checks it, until `deadline`; slots
    /// left unread then count as one error, so a device that stalls cannot hold the run.
    mutating func checkAll(until deadline: ContinuousClock.Instant) async {
        let written = slots.indices.filter { if case .unwritten = slots[$0] { false } else { true } }
        for (done, slot) in written.enumerated() {
            guard ContinuousClock.now < deadline else {
                tally.error("\(written.count - done) written slots were not read back: the final check ran out of time", at: .now)
                return
            }
            tally.finalChecks += 1
            await read(slot)
        }
    }

    private mutating func write(_ slot: Int) async {
        generation += 1
        let next = generation
        let address = lba(of: slot)
        let data = pattern.bytes(lba: address, blockCount: blocksPerIO, generation: next)
        let began = ContinuousClock.now
        do {
            try await device.write(data, at: address, fua: false)
            tally.record(ContinuousClock.now - began)
            slots[slot] = .written(next)
        } catch {
            let now = ContinuousClock.now
            tally.record(now - began)
            tally.error("write of generation \(next) to LBA \(address) failed: \(error)", at: now)
            slots[slot] = switch slots[slot] {
            case .unwritten: .uncertain(generations: [next], old: true)
            case .written(let generation): .uncertain(generations: [generation, next], old: false)
            // Any earlier failed write may have landed too, and this one may not have.
            case .uncertain(let generations, let old): .uncertain(generations: generations + [next], old: old)
            }
            try? await Task.sleep(for: Self.pauseAfterError)
        }
        tally.writes += 1
    }

    private mutating func read(_ slot: Int) async {
        let address = lba(of: slot)
        let began = ContinuousClock.now
        let data: ByteBuffer
        do {
            data = try await device.read(at: address, blockCount: blocksPerIO)
            tally.record(ContinuousClock.now - began)
        } catch {
            let now = ContinuousClock.now
            tally.record(now - began)
            tally.reads += 1
            tally.error("read of LBA \(address) failed: \(error)", at: now)
            try? await Task.sleep(for: Self.pauseAfterError)
            return
        }
        tally.reads += 1
        check(data, slot: slot, lba: address)
    }

    /// Compares each block with what the slot may hold; a failed write that turns out to
    /// have landed (or not) everywhere makes the slot known again.
    private mutating func check(_ data: ByteBuffer, slot: Int, lba: UInt64) {
        let allowed: [UInt64]
        let oldAllowed: Bool
        switch slots[slot] {
        case .unwritten: return
        case .written(let generation): (allowed, oldAllowed) = ([generation], false)
        case .uncertain(let generations, let old): (allowed, oldAllowed) = (generations, old)
        }
        var seen: Set<UInt64> = []
        var skipped = false
        for block in 0..<blocksPerIO {
            let address = lba + UInt64(block)
            let found = pattern.check(data, block: block, lba: address)
            let problem: String?
            switch found {
            case .generation(let generation) where allowed.contains(generation):
                seen.insert(generation)
                problem = nil
            case .generation(let generation):
                problem = "holds generation \(generation), expected \(Self.list(allowed))"
            case .foreign(let what):
                // Before anything of ours was acknowledged, old data is allowed.
                if oldAllowed {
                    skipped = true
                    continue
                }
                problem = "holds \(what), expected generation \(Self.list(allowed))"
            case .torn(let generation, let byte):
                problem = "has the header of generation \(generation) but its data differs from byte \(byte) (torn or overwritten)"
            }
            if let problem {
                tally.miscompare("LBA \(address) \(problem)", at: ContinuousClock.now)
                return
            }
        }
        if case .uncertain = slots[slot], !skipped, seen.count == 1, let settled = seen.first {
            slots[slot] = .written(settled)
        }
    }

    private static func list(_ generations: [UInt64]) -> String {
        generations.map(String.init).joined(separator: " or ")
    }
}
