// `target bench --verify`: a random write+read load whose every read is checked, which
// counts errors and miscompares instead of stopping at the first, and reads back every
// written block at the end. The load the multipath tests drive through path failures.

import BlockDevice
import NIOCore

/// Runs `queueDepth` workers over disjoint slots of `ioSize` bytes for `duration` or
/// `maxIOs` I/Os, then has each read back what it wrote.
struct VerifiedLoad {
    var device: any BlockDevice
    var ioSize: Int
    var queueDepth: Int
    var duration: Duration
    var maxIOs: Int
    var rangeBytes: UInt64?
    var pinToDevice = true

    /// The final read-back may take as long as the load, and at least this.
    static let minimumFinalCheck: Duration = .seconds(30)

    /// The merged tally and the seconds the load (not the final check) took.
    func run() async throws -> (tally: VerifyTally, seconds: Double) {
        let geometry = device.geometry
        guard ioSize % geometry.blockSize == 0 else {
            throw CLIError("--bs \(ioSize) is not a multiple of the LUN's \(geometry.blockSize)-byte blocks", exitCode: CLIExitCode.usage)
        }
        guard geometry.blockSize >= VerifyPattern.headerBytes, geometry.blockSize % 8 == 0 else {
            throw CLIError("--verify needs blocks of at least \(VerifyPattern.headerBytes) bytes, a multiple of 8; the LUN has \(geometry.blockSize)", exitCode: CLIExitCode.usage)
        }
        let blocksPerIO = ioSize / geometry.blockSize
        let rangeBlocks = min(geometry.blockCount, (rangeBytes ?? geometry.byteCount) / UInt64(geometry.blockSize))
        let slots = rangeBlocks / UInt64(blocksPerIO)
        guard slots >= UInt64(queueDepth) else {
            throw CLIError(
                "--verify gives each of the \(queueDepth) workers slots of its own, but the LUN (or --range) holds only \(slots) of \(ioSize) bytes; lower --qd or --bs, or widen --range",
                exitCode: CLIExitCode.usage
            )
        }
        let pattern = VerifyPattern(run: UInt64.random(in: 1...UInt64.max), blockSize: geometry.blockSize)
        let perWorker = (maxIOs + queueDepth - 1) / queueDepth
        let started = ContinuousClock.now
        let deadline = started + duration
        let (tally, loadTook) = await withTaskGroup(of: (VerifyTally, Duration).self) { group in
            let executor = pinToDevice ? device.preferredTaskExecutor : nil
            for worker in 0..<queueDepth {
                group.addTask(executorPreference: executor) { [device] in
                    var verifier = VerifyWorker(
                        device: device,
                        pattern: pattern,
                        blocksPerIO: blocksPerIO,
                        worker: worker,
                        workers: queueDepth,
                        totalSlots: slots
                    )
                    await verifier.load(ios: perWorker, until: deadline)
                    let loadTook = ContinuousClock.now - started
                    await verifier.checkAll(until: .now + max(duration, Self.minimumFinalCheck))
                    return (verifier.tally, loadTook)
                }
            }
            var total = VerifyTally()
            var longest = Duration.zero
            for await (tally, took) in group {
                total.add(tally)
                longest = max(longest, took)
            }
            return (total, longest)
        }
        return (tally, Double(loadTook.components.seconds) + Double(loadTook.components.attoseconds) / 1e18)
    }
}
