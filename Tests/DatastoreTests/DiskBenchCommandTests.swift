// `vdiskctl disk bench` as a user runs it on an image file: the bounded load it reports in
// JSON, and the option checks it shares with `target bench` (BenchLoadOptions).

import Foundation
import TestSupport
import Testing

@Suite struct DiskBenchCommandTests {
    @Test func aBoundedWriteLoadIsMeasuredAndReported() async throws {
        let directory = TemporaryDirectory("disk-bench")
        let image = directory.file("ds.img")
        let format = try await ChildProcess.run(["datastore", "format", image, "--label", "bench", "--image-size", "64M"])
        #expect(format.status == 0, "\(format.stderr)")
        let create = try await ChildProcess.run(["disk", "create", image, "d", "--size", "4M"])
        #expect(create.status == 0, "\(create.stderr)")

        // 64 I/Os of 64 KiB cover the 4 MiB disk once: --max-ios ends the run, not the clock.
        let bench = try await ChildProcess.run([
            "disk", "bench", image, "d", "--pattern", "seqwrite", "--bs", "64k", "--qd", "4",
            "--seconds", "60", "--max-ios", "64", "--json",
        ])
        #expect(bench.status == 0, "\(bench.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(bench.stdout.utf8)) as? [String: Any])
        #expect(report["pattern"] as? String == "seqwrite")
        #expect(report["blockSize"] as? Int == 64 << 10)
        #expect(report["queueDepth"] as? Int == 4)
        #expect(report["ios"] as? Int == 64)
        // A thin disk allocates what the writes touched: all of it.
        #expect(report["allocatedBlocks"] as? Int ?? 0 > 0)
    }

    @Test(arguments: [
        (["--qd", "0"], "--qd must be between 1 and 1024"),
        (["--bs", "100"], "--bs must be between 512 bytes and 64 MiB"),
        (["--seconds", "0"], "--seconds must be more than 0 and at most 3600"),
        (["--max-ios", "0"], "--max-ios must be at least 1"),
    ])
    func badLoadOptionsAreRefusedBeforeAnythingIsOpened(options: [String], message: String) async throws {
        // The image does not exist: the options are checked before the datastore is touched.
        let bench = try await ChildProcess.run(["disk", "bench", "/nonexistent/ds.img", "d"] + options)
        #expect(bench.status == 64)
        #expect(bench.stderr.contains(message), "\(bench.stderr)")
    }
}
