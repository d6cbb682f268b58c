// The load both bench commands run (`target bench` on a LUN, `disk bench` on a virtual disk):
// one set of options, checked alike, so the two measure the same thing the same way.

import ArgumentParser
import BlockDevice

struct BenchLoadOptions: ParsableArguments {
    @Option(help: "randread, randwrite, seqread or seqwrite.")
    var pattern: TargetBenchCommand.Pattern = .randread

    @Option(help: "Bytes per I/O, e.g. 4k or 1M.")
    var bs: ByteCount = ByteCount(bytes: 4096)

    @Option(help: "I/Os in flight at once.")
    var qd: Int = 1

    @Option(help: "How long to run, in seconds.")
    var seconds: Double = 10

    @Option(name: .customLong("max-ios"), help: "Stop after this many I/Os even if time is left.")
    var maxIOs: Int = 100_000_000

    @Option(help: "Use only the first SIZE bytes of the LUN or disk (default: all of it).")
    var range: ByteCount?

    func validate() throws {
        guard (1...1024).contains(qd) else { throw ValidationError("--qd must be between 1 and 1024") }
        guard seconds > 0, seconds <= 3600 else { throw ValidationError("--seconds must be more than 0 and at most 3600") }
        guard bs.bytes >= 512, bs.bytes <= 64 << 20 else { throw ValidationError("--bs must be between 512 bytes and 64 MiB") }
        guard maxIOs > 0 else { throw ValidationError("--max-ios must be at least 1") }
    }

    /// The runner for this load on `device`.
    func runner(on device: any BlockDevice, pinToDevice: Bool = true) -> BenchRunner {
        BenchRunner(
            device: device,
            pattern: pattern,
            ioSize: Int(bs.bytes),
            queueDepth: qd,
            duration: .milliseconds(Int64(seconds * 1000)),
            maxIOs: maxIOs,
            rangeBytes: range?.bytes,
            pinToDevice: pinToDevice
        )
    }

    /// The run's JSON object, naming the load.
    func json(_ result: BenchResult) -> [String: Any] {
        result.json(pattern: pattern.rawValue, ioSize: Int(bs.bytes), queueDepth: qd)
    }
}
