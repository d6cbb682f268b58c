// The inspection filter on a scripted workload: every bucket of every histogram holds exactly
// the count worked out by hand, and the trace holds exactly the I/Os issued.

import BlockDevice
import Filters
import NIOCore
import Synchronization
import TestSupport
import Testing

/// Passes everything to `base`, moving `clock` on by the next scripted latency first.
final class ScriptedLatencyDevice: ForwardingBlockDevice {
    let base: any BlockDevice
    let clock: ManualFilterClock
    let latencies: Mutex<[UInt64]>

    init(_ base: any BlockDevice, clock: ManualFilterClock, latenciesMicroseconds: [UInt64]) {
        self.base = base
        self.clock = clock
        self.latencies = Mutex(latenciesMicroseconds)
    }

    private func elapse() {
        clock.advance(byNanoseconds: latencies.withLock { $0.isEmpty ? 0 : $0.removeFirst() } * 1000)
    }

    func read(at lba: UInt64, blockCount: Int) async throws -> ByteBuffer {
        elapse()
        return try await base.read(at: lba, blockCount: blockCount)
    }

    func write(_ data: ByteBuffer, at lba: UInt64, fua: Bool) async throws {
        elapse()
        try await base.write(data, at: lba, fua: fua)
    }

    func flush() async throws {
        elapse()
        try await base.flush()
    }
}

@Suite struct InspectionTests {
    /// Non-zero buckets of one histogram, by label.
    private func buckets(_ recorder: InspectionRecorder, _ kind: HistogramKind, _ ioClass: IOClass) -> [String: UInt64] {
        let histogram = recorder.histograms[kind]![ioClass]!
        var result: [String: UInt64] = [:]
        for (index, count) in histogram.counts.enumerated() where count > 0 { result[histogram.label(index)] = count }
        return result
    }

    @Test func aScriptedWorkloadFillsExactlyTheExpectedBuckets() async throws {
        let directory = TemporaryDirectory("inspection")
        let clock = ManualFilterClock()
        // Latencies in µs, in issue order: R1, R2, W1, W2, R3, flush.
        let base = ScriptedLatencyDevice(try fileDevice(directory, "disk"), clock: clock, latenciesMicroseconds: [50, 50, 700, 20000, 3, 9])
        let inspection = try InspectionFilter(parameters: FilterParameters(), clock: clock)
        let device = FilteredBlockDevice(base: base, disk: "ds1/vm1", chain: try FilterChain([inspection]))

        _ = try await device.read(at: 0, blockCount: 8)                    // R1 at 0 µs
        clock.advance(byNanoseconds: 200_000)
        _ = try await device.read(at: 8, blockCount: 8)                    // R2 at 250 µs
        clock.advance(byNanoseconds: 2_000_000)
        try await device.write(pattern(seed: 1, blocks: 16), at: 1000, fua: false)   // W1 at 2300 µs
        try await device.write(pattern(seed: 2, blocks: 1), at: 100, fua: true)      // W2 at 3000 µs
        _ = try await device.read(at: 16, blockCount: 128)                 // R3 at 23000 µs
        try await device.flush()

        let recorder = inspection.snapshot
        #expect(buckets(recorder, .length, .reads) == ["<= 4096": 2, "<= 65536": 1])
        #expect(buckets(recorder, .length, .writes) == ["<= 8192": 1, "<= 512": 1])
        #expect(buckets(recorder, .length, .all) == ["<= 4096": 2, "<= 65536": 1, "<= 8192": 1, "<= 512": 1])
        #expect(buckets(recorder, .seek, .reads) == ["<= 0": 2])
        #expect(buckets(recorder, .seek, .writes) == ["<= -500": 1])
        #expect(buckets(recorder, .seek, .all) == ["<= 0": 1, "<= 1000": 1, "<= -500": 1, "<= -64": 1])
        #expect(buckets(recorder, .seekClosest, .reads) == ["<= 0": 2])
        #expect(buckets(recorder, .seekClosest, .writes) == ["<= -500": 1])
        #expect(buckets(recorder, .seekClosest, .all) == ["<= 0": 2, "<= 1000": 1, "<= 128": 1])
        #expect(buckets(recorder, .interarrival, .reads) == ["<= 500": 1, "<= 30000": 1])
        #expect(buckets(recorder, .interarrival, .writes) == ["<= 1000": 1])
        #expect(buckets(recorder, .interarrival, .all) == ["<= 500": 1, "<= 5000": 1, "<= 1000": 1, "<= 30000": 1])
        #expect(buckets(recorder, .outstanding, .reads) == ["<= 1": 3])
        #expect(buckets(recorder, .outstanding, .writes) == ["<= 1": 2])
        #expect(buckets(recorder, .outstanding, .all) == ["<= 1": 5])
        #expect(buckets(recorder, .latency, .reads) == ["<= 100": 2, "<= 10": 1])
        #expect(buckets(recorder, .latency, .writes) == ["<= 1000": 1, "<= 30000": 1])
        #expect(buckets(recorder, .latency, .all) == ["<= 100": 2, "<= 10": 1, "<= 1000": 1, "<= 30000": 1])

        let lines = recorder.traceCSV.split(separator: "\n").map(String.init)
        #expect(lines == [
            IOTraceEntry.csvHeader,
            "0,read,0,8,50,ok",
            "250000,read,8,8,50,ok",
            "2300000,write,1000,16,700,ok",
            "3000000,write,100,1,20000,ok",
            "23000000,read,16,128,3,ok",
            "23003000,flush,0,0,9,ok",
        ])
        try await device.close()
    }

    @Test func outstandingCountsEachArrivalWithThoseAlreadyInside() {
        var recorder = InspectionRecorder()
        let tokens = (0..<4).map { recorder.arrive(.read, lba: UInt64($0 * 8), blockCount: 8, bytes: 4096, now: 0) }
        for token in tokens { recorder.complete(token, status: "ok", now: 0) }
        let fifth = recorder.arrive(.write, lba: 0, blockCount: 1, bytes: 512, now: 0)
        recorder.complete(fifth, status: "ok", now: 0)
        let reads = recorder.histograms[.outstanding]![.reads]!, all = recorder.histograms[.outstanding]![.all]!
        #expect(reads.counts[reads.bucket(of: 1)] == 1 && reads.counts[reads.bucket(of: 2)] == 1 && reads.counts[reads.bucket(of: 4)] == 2)
        #expect(all.counts[all.bucket(of: 1)] == 2)
        #expect(all.total == 5)
    }

    @Test func stopResetAndTheTraceBound() {
        var recorder = InspectionRecorder(collecting: false, traceCapacity: 3)
        recorder.complete(recorder.arrive(.read, lba: 0, blockCount: 1, bytes: 512, now: 0), status: "ok", now: 1000)
        #expect(recorder.histograms[.length]![.all]!.total == 0 && recorder.trace.isEmpty)
        recorder.start()
        for index in 0..<5 {
            recorder.complete(recorder.arrive(.write, lba: UInt64(index), blockCount: 1, bytes: 512, now: 0), status: "ok", now: 1000)
        }
        #expect(recorder.trace.map(\.lba) == [2, 3, 4])
        #expect(recorder.histograms[.length]![.writes]!.total == 5)
        recorder.reset()
        #expect(recorder.histograms[.length]![.writes]!.total == 0 && recorder.trace.isEmpty && recorder.collecting)
    }

    @Test func bucketEdgesAreInclusiveAndTheLastBucketTakesTheRest() {
        let histogram = IOHistogram(.latency)
        #expect(histogram.bucket(of: 0) == 0 && histogram.bucket(of: 1) == 0 && histogram.bucket(of: 2) == 1)
        #expect(histogram.bucket(of: 100_000) == 9 && histogram.bucket(of: 100_001) == 10)
        #expect(histogram.label(10) == "> 100000")
    }
}
