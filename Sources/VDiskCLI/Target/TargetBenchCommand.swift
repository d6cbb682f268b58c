// `vdiskctl target bench URL`: a bounded load with IOPS, throughput and latency percentiles.

import ArgumentParser
import BlockDevice
import Foundation
import Histogram
import ISCSI
import ISCSIAddress
import NIOCore

struct TargetBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run a bounded read or write load against a LUN and print IOPS, MB/s and latency percentiles.",
        discussion: "Write patterns overwrite the LUN's data in the range they touch."
    )

    enum Pattern: String, ExpressibleByArgument, CaseIterable {
        case randread, randwrite, seqread, seqwrite

        var isWrite: Bool { self == .randwrite || self == .seqwrite }
        var isRandom: Bool { self == .randread || self == .randwrite }
    }

    @Argument(help: "iscsi://[user[%password]@]host[:port]/IQN/LUN")
    var url: String

    @OptionGroup var load: BenchLoadOptions

    @Flag(
        inversion: .prefixedNo,
        help: "Run the workers on the connection's event loop, so completions need no thread hop."
    )
    var pin = true

    @OptionGroup var target: TargetOptions

    @OptionGroup var multipath: MultipathBenchOptions

    @Flag(
        help: "Instead of --pattern: random writes and reads (half each) with every read checked against the last acknowledged write, and every written block read back at the end. Counts errors and miscompares without stopping; exits non-zero when there was any."
    )
    var verify = false

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() async throws {
        let url = try parseTargetURL(self.url)
        if verify {
            try await runVerified(url)
            return
        }
        try await CLIFailure.guarding {
            let result = try await withDevice(url) { device in
                try await load.runner(on: device, pinToDevice: pin).run()
            }
            print(json ? try JSONOutput.string(load.json(result)) : result.text)
        }
    }
}

extension TargetBenchCommand {
    /// The LUN as one session, or with `--path` as a multipath device over every path.
    private func withDevice<T>(_ url: ISCSITargetURL, _ body: (any BlockDevice) async throws -> T) async throws -> T {
        if multipath.isMultipath {
            return try await multipath.withDevice(url, target: target, body)
        }
        return try await TargetConnection.withDevice(url, options: target) { try await body($0) }
    }

    /// `--verify`: prints the report, then fails with the device-error code when any I/O
    /// failed or any read did not hold what was written.
    private func runVerified(_ url: ISCSITargetURL) async throws {
        try await CLIFailure.guarding {
            let (tally, seconds) = try await withDevice(url) { device in
                try await VerifiedLoad(
                    device: device,
                    ioSize: Int(load.bs.bytes),
                    queueDepth: load.qd,
                    duration: .milliseconds(Int64(load.seconds * 1000)),
                    maxIOs: load.maxIOs,
                    rangeBytes: load.range?.bytes,
                    pinToDevice: pin
                ).run()
            }
            print(json ? try JSONOutput.string(tally.json(ioSize: Int(load.bs.bytes), queueDepth: load.qd, seconds: seconds)) : tally.text(seconds: seconds))
            if tally.failed {
                throw CLIError("verify saw \(tally.errors) failed I/Os and \(tally.miscompares) miscompares", exitCode: CLIExitCode.deviceError)
            }
        }
    }
}

/// What one bench run measured.
struct BenchResult {
    var ios: Int
    var bytes: Int
    var elapsed: Double
    var cpuSeconds: Double
    var latency: Histogram<UInt64>

    var iops: Double { Double(ios) / elapsed }
    var megabytesPerSecond: Double { Double(bytes) / elapsed / 1_000_000 }

    func microseconds(_ percentile: Double) -> Double {
        Double(latency.valueAtPercentile(percentile)) / 1000
    }

    var text: String {
        let lines = [
            String(format: "%.0f IOPS, %.1f MB/s over %.1f s (%d I/Os)", iops, megabytesPerSecond, elapsed, ios),
            String(
                format: "latency p50 %.0f µs, p99 %.0f µs, p99.9 %.0f µs, max %.0f µs",
                microseconds(50), microseconds(99), microseconds(99.9), Double(latency.max) / 1000
            ),
            String(format: "cpu %.2f s (%.2f s per 100k I/Os)", cpuSeconds, ios > 0 ? cpuSeconds * 100_000 / Double(ios) : 0),
        ]
        return lines.joined(separator: "\n")
    }

    func json(pattern: String, ioSize: Int, queueDepth: Int) -> [String: Any] {
        [
            "pattern": pattern,
            "blockSize": ioSize,
            "queueDepth": queueDepth,
            "ios": ios,
            "seconds": elapsed,
            "iops": iops,
            "mbPerSecond": megabytesPerSecond,
            "latencyMicroseconds": ["p50": microseconds(50), "p99": microseconds(99), "p99.9": microseconds(99.9)],
            "cpuSeconds": cpuSeconds,
        ]
    }
}

/// Keeps `queueDepth` I/Os in flight until the time or the I/O budget runs out.
struct BenchRunner {
    var device: any BlockDevice
    var pattern: TargetBenchCommand.Pattern
    var ioSize: Int
    var queueDepth: Int
    var duration: Duration
    var maxIOs: Int
    var rangeBytes: UInt64?
    var pinToDevice = true

    func run() async throws -> BenchResult {
        let geometry = device.geometry
        guard ioSize % geometry.blockSize == 0 else {
            throw CLIError("--bs \(ioSize) is not a multiple of the LUN's \(geometry.blockSize)-byte blocks", exitCode: CLIExitCode.usage)
        }
        let blocksPerIO = ioSize / geometry.blockSize
        let rangeBlocks = min(geometry.blockCount, (rangeBytes ?? geometry.byteCount) / UInt64(geometry.blockSize))
        let slots = rangeBlocks / UInt64(blocksPerIO)
        guard slots > 0 else {
            throw CLIError("the LUN (or --range) is smaller than one \(ioSize)-byte I/O", exitCode: CLIExitCode.usage)
        }
        var payload = ByteBuffer()
        if pattern.isWrite {
            var generator = SystemRandomNumberGenerator()
            payload.reserveCapacity(ioSize)
            for _ in 0..<(ioSize / 8) { payload.writeInteger(generator.next() as UInt64) }
        }
        let writeData = payload
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + duration
        let cpuBefore = Self.cpuSeconds()
        let perWorkerLimit = (maxIOs + queueDepth - 1) / queueDepth

        let histograms = try await withThrowingTaskGroup(of: (Int, Histogram<UInt64>).self) { group in
            let executor = pinToDevice ? device.preferredTaskExecutor : nil
            for worker in 0..<queueDepth {
                group.addTask(executorPreference: executor) {
                    var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000)
                    var generator = SystemRandomNumberGenerator()
                    var count = 0
                    var sequential = UInt64(worker)
                    while count < perWorkerLimit, clock.now < deadline {
                        let slot: UInt64
                        if pattern.isRandom {
                            slot = UInt64.random(in: 0..<slots, using: &generator)
                        } else {
                            slot = sequential % slots
                            sequential += UInt64(queueDepth)
                        }
                        let lba = slot * UInt64(blocksPerIO)
                        let began = clock.now
                        if pattern.isWrite {
                            try await device.write(writeData, at: lba, fua: false)
                        } else {
                            _ = try await device.read(at: lba, blockCount: blocksPerIO)
                        }
                        let took = clock.now - began
                        let nanoseconds = took.components.seconds * 1_000_000_000 + took.components.attoseconds / 1_000_000_000
                        _ = histogram.record(UInt64(max(1, nanoseconds)))
                        count += 1
                    }
                    return (count, histogram)
                }
            }
            var total = Histogram<UInt64>(highestTrackableValue: 60_000_000_000)
            var ios = 0
            for try await (count, histogram) in group {
                ios += count
                total.add(histogram)
            }
            return (ios, total)
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return BenchResult(
            ios: histograms.0,
            bytes: histograms.0 * ioSize,
            elapsed: seconds,
            cpuSeconds: Self.cpuSeconds() - cpuBefore,
            latency: histograms.1
        )
    }

    /// User plus system CPU time of this process so far.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
