// The inspection filter's histograms as a sidecar blob: what is saved loads back exactly, and a
// blob that is cut, padded, foreign or shaped for other bucket edges is refused with a reason.

@testable import Filters
import Testing

@Suite struct InspectionSidecarTests {
    /// A recorder that has seen reads, writes, seeks and latencies of several sizes.
    private func busyRecorder() -> InspectionRecorder {
        var recorder = InspectionRecorder(traceCapacity: 0)
        var now: UInt64 = 1_000
        for index in 0..<200 {
            let operation: FilterOperation = index % 3 == 0 ? .write : .read
            let blocks = [1, 8, 16, 128, 2048][index % 5]
            let token = recorder.arrive(operation, lba: UInt64(index * 7919 % 100_000), blockCount: blocks, bytes: blocks * 512, now: now)
            now += UInt64(index % 17) * 40_000
            recorder.complete(token, status: "ok", now: now)
        }
        return recorder
    }

    @Test func savedHistogramsLoadBackExactly() throws {
        let recorder = busyRecorder()
        let bytes = InspectionSidecar.encode(recorder.histograms)
        let loaded = try InspectionSidecar.decode(bytes)
        #expect(loaded == recorder.histograms)
        var fresh = InspectionRecorder()
        fresh.restore(loaded)
        #expect(fresh.histograms == recorder.histograms)
        #expect(fresh.histograms[.length]?[.all]?.total == 200)
        // Small enough for a sidecar (at most 32 KiB).
        #expect(bytes.count < 8192, "\(bytes.count) bytes")
    }

    @Test func aBlobThatDoesNotFitIsRefusedWithAReason() {
        let bytes = InspectionSidecar.encode(busyRecorder().histograms)
        func reason(_ blob: [UInt8]) -> String? {
            do {
                _ = try InspectionSidecar.decode(blob)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(reason(Array(bytes.dropLast())) == "it is cut short at byte \(bytes.count - 1)")
        #expect(reason(bytes + [0]) == "it has 1 bytes after its last histogram")
        #expect(reason(Array("XXXX".utf8) + bytes.dropFirst(4)) == "it does not start with VDIH")
        var version = bytes
        version[4] = 2
        #expect(reason(version) == "it is version 2; this filter reads version 1")
        // The first histogram is length/reads: magic, version, count, "length", "reads", buckets.
        var buckets = bytes
        let bucketCount = 4 + 4 + 4 + 1 + 6 + 1 + 5
        buckets[bucketCount] &+= 1
        #expect(reason(buckets)?.hasPrefix("its length/reads histogram has \(HistogramKind.length.edges.count + 2) buckets") == true, "\(reason(buckets) ?? "accepted")")
        var kind = bytes
        kind[4 + 4 + 4 + 1] = UInt8(ascii: "L")
        #expect(reason(kind) == "it names an unknown histogram Length/reads")
        #expect(reason([]) == "it is cut short at byte 0")
    }
}
