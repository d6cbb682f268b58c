// The chain around a real (file-backed) device: every operation passes, an operation a filter
// does not handle is failed and hidden, a broken filter harms only its own disk, and a chain
// changes live under load without losing or failing an I/O.

import BlockDevice
import Filters
import NIOCore
import SCSI
import Synchronization
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(2))) struct FilteredBlockDeviceTests {
    @Test func everyOperationReachesTheDiskThroughEveryStage() async throws {
        let directory = TemporaryDirectory("filters")
        let base = try fileDevice(directory, "disk")
        let top = RecordingFilter(.ioControl), bottom = RecordingFilter(.cache)
        let device = FilteredBlockDevice(base: base, disk: "ds1/vm1", chain: try FilterChain([top, bottom]))
        try await device.write(pattern(seed: 1, blocks: 8), at: 16, fua: true)
        #expect(try await device.read(at: 16, blockCount: 8) == pattern(seed: 1, blocks: 8))
        try await device.flush()
        try await device.compareAndWrite(at: 16, expected: pattern(seed: 1, blocks: 1), replacement: pattern(seed: 9, blocks: 1))
        #expect(try await base.read(at: 16, blockCount: 1) == pattern(seed: 9, blocks: 1))
        await #expect(throws: BlockDeviceError.self) {
            try await device.compareAndWrite(at: 16, expected: pattern(seed: 1, blocks: 1), replacement: pattern(seed: 2, blocks: 1))
        }
        try await device.writeSame(pattern(seed: 4, blocks: 1), at: 100, blockCount: 4, unmap: false)
        #expect(try await base.read(at: 103, blockCount: 1) == pattern(seed: 4, blocks: 1))
        if base.capabilities.contains(.unmap) { try await device.unmap([BlockRange(lba: 100, blockCount: 4)]) }
        let expected: [FilterOperation] = [.write, .read, .flush, .compareAndWrite, .compareAndWrite, .writeSame]
        #expect(Array(top.seen.withLock { $0 }.prefix(6)) == expected)
        #expect(top.seen.withLock { $0 } == bottom.seen.withLock { $0 })
        try await device.close()
    }

    @Test func anOperationAFilterDoesNotHandleIsFailedAndNoLongerOffered() async throws {
        let directory = TemporaryDirectory("filters")
        let base = try fileDevice(directory, "disk")
        let narrow = RecordingFilter(.replication, operations: [.read, .write, .flush])
        let device = FilteredBlockDevice(base: base, disk: "ds1/vm1", chain: try FilterChain([narrow]))
        #expect(!device.capabilities.contains(.compareAndWrite))
        #expect(!device.capabilities.contains(.unmap))
        do {
            try await device.compareAndWrite(at: 0, expected: pattern(seed: 0, blocks: 1), replacement: pattern(seed: 1, blocks: 1))
            Issue.record("a compare and write passed a filter that does not handle it")
        } catch let error as BlockDeviceError {
            #expect(error.code == .notSupported)
            #expect(error.message.contains("filter recording-replication on disk ds1/vm1 does not handle compareAndWrite"), "\(error)")
        }
        #expect(narrow.seen.withLock { $0 }.isEmpty)
        #expect(try await base.read(at: 0, blockCount: 1) == ByteBuffer(repeating: 0, count: 512))
    }

    /// One disk's filter throws, hangs, or fails only flushes; a second disk beside it keeps
    /// verified I/O going all the while.
    @Test(arguments: [
        ["mode": FilterParameterValue.string("throw")],
        ["mode": .string("hang"), "timeout_ms": .int(300)],
        ["mode": .string("throw"), "operations": .string("flush")],
    ])
    func aBrokenFilterFailsOnlyItsOwnDisksIO(fault: [String: FilterParameterValue]) async throws {
        let directory = TemporaryDirectory("filters")
        let events = Mutex<[FilterEvent]>([])
        let broken = FilteredBlockDevice(
            base: try fileDevice(directory, "broken"), disk: "ds1/broken", chain: try FilterChain([faultFilter(fault)]),
            events: { event in events.withLock { $0.append(event) } }
        )
        let healthy = FilteredBlockDevice(base: try fileDevice(directory, "healthy"), disk: "ds1/healthy", chain: try FilterChain([RecordingFilter(.cache)]))
        let flushOnly = fault["operations"] != nil

        async let healthyRounds: Int = {
            var rounds = 0
            for round in 0..<40 {
                let data = pattern(seed: UInt8(round), blocks: 4)
                try await healthy.write(data, at: UInt64(round * 4), fua: false)
                try await healthy.flush()
                #expect(try await healthy.read(at: UInt64(round * 4), blockCount: 4) == data)
                rounds += 1
            }
            return rounds
        }()

        let write = await Result { try await broken.write(pattern(seed: 7, blocks: 1), at: 0, fua: false) }
        let flush = await Result { try await broken.flush() }
        if flushOnly {
            #expect((try? write.get()) != nil, "a write failed though only flushes are broken")
        } else {
            expectFiltered(write, code: fault["mode"] == .string("hang") ? .timeout : .deviceError)
        }
        expectFiltered(flush, code: fault["mode"] == .string("hang") ? .timeout : .deviceError)
        #expect(try await healthyRounds == 40)
        #expect(events.withLock { $0 }.allSatisfy { $0.disk == "ds1/broken" && $0.filter == "faultInjection" })
        #expect(!events.withLock { $0 }.isEmpty)
        #expect(broken.recentEvents.count == events.withLock { $0.count })
        try await broken.close()
        try await healthy.close()
    }

    private func expectFiltered(_ result: Result<Void, any Error>, code: BlockDeviceError.Code) {
        guard case .failure(let error as BlockDeviceError) = result else {
            Issue.record("expected a \(code) failure, got \(result)")
            return
        }
        #expect(error.code == code, "\(error)")
        #expect(error.message.contains("filter faultInjection on disk ds1/broken"), "\(error)")
    }

    @Test func aBypassFilterThatBreaksIsSkippedWithAnAlertAndTheIOCompletes() async throws {
        let directory = TemporaryDirectory("filters")
        let events = Mutex<[FilterEvent]>([])
        for mode in ["throw", "hang"] {
            let fault = try faultFilter(["mode": .string(mode), "policy": .string("bypass"), "category": .string("inspection"), "timeout_ms": .int(200)])
            let device = FilteredBlockDevice(
                base: try fileDevice(directory, mode), disk: "ds1/\(mode)", chain: try FilterChain([fault]),
                events: { event in events.withLock { $0.append(event) } }
            )
            try await device.write(pattern(seed: 3, blocks: 2), at: 8, fua: false)
            #expect(try await device.read(at: 8, blockCount: 2) == pattern(seed: 3, blocks: 2))
            let bypassed = events.withLock { $0 }.filter { $0.disk == "ds1/\(mode)" }
            #expect(bypassed.count == 1, "\(bypassed)")
            if case .bypassed(let reason)? = bypassed.first?.kind {
                #expect(reason.contains(mode == "throw" ? "injected fault" : "did not answer"), "\(reason)")
            } else {
                Issue.record("no bypass event: \(bypassed)")
            }
            try await device.close()
        }
    }

    /// Writers at queue depth 16 with flushes between rounds while the chain is replaced ten
    /// times: no I/O fails, every block reads back as last written, and no write issued before a
    /// flush completes after it.
    @Test func aChainChangesLiveUnderLoadWithoutLosingOrReorderingIO() async throws {
        let directory = TemporaryDirectory("filters")
        let base = try fileDevice(directory, "disk")
        let device = FilteredBlockDevice(base: base, disk: "ds1/vm1", chain: .empty)
        let done = Atomic<Bool>(false)
        async let swaps: Int = {
            var swaps = 0
            for round in 0..<10 {
                let chain = round.isMultiple(of: 2)
                    ? try FilterChain([RecordingFilter(.ioControl), InspectionFilter(parameters: FilterParameters(), clock: SystemFilterClock())])
                    : FilterChain.empty
                try await device.replaceChain(with: chain, quiesceTimeout: .seconds(60))  // a loaded machine may hold an I/O for seconds
                swaps += 1
                try await Task.sleep(for: .milliseconds(20))
            }
            done.store(true, ordering: .relaxed)
            return swaps
        }()
        var rounds = 0
        while !done.load(ordering: .relaxed) && rounds < 2000 {
            let seed = UInt8(truncatingIfNeeded: rounds)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for slot in 0..<16 {
                    group.addTask { try await device.write(pattern(seed: seed, blocks: 2), at: UInt64(slot * 2), fua: false) }
                }
                try await group.waitForAll()
            }
            try await device.flush()
            rounds += 1
        }
        #expect(try await swaps == 10)
        for slot in 0..<16 {
            #expect(try await base.read(at: UInt64(slot * 2), blockCount: 2) == pattern(seed: UInt8(truncatingIfNeeded: rounds - 1), blocks: 2))
        }
        // Some rounds ran while the chain changed (a loaded machine runs few).
        #expect(rounds >= 2)
        try await device.close()
    }

    @Test func aQuiesceThatCannotDrainChangesNothing() async throws {
        let directory = TemporaryDirectory("filters")
        let hang = try faultFilter(["mode": .string("hang"), "timeout_ms": .int(5000)])
        let device = FilteredBlockDevice(base: try fileDevice(directory, "disk"), disk: "ds1/vm1", chain: try FilterChain([hang]))
        async let stuck = Result { try await device.write(pattern(seed: 1, blocks: 1), at: 0, fua: false) }
        try await Task.sleep(for: .milliseconds(100))
        do {
            try await device.replaceChain(with: .empty, quiesceTimeout: .milliseconds(200))
            Issue.record("a quiesce with an I/O stuck inside succeeded")
        } catch let error as BlockDeviceError {
            #expect(error.code == .busy)
            #expect(error.message.contains("1 I/Os inside"), "\(error)")
        }
        #expect(device.chain.filters.count == 1)
        _ = await stuck
        try await device.close()
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
