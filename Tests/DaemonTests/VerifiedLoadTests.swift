// `target bench --verify`'s load on an image file, where every outcome is known: a clean
// run, writes that fail after or before landing (errors, never miscompares), and a read
// that comes back changed (a miscompare naming the LBA).

import BlockDevice
import Testing
import TestSupport
@testable import VDiskCLI

@Suite struct VerifiedLoadTests {
    /// The I/O count ends the run; the time bound only keeps a wedged run from hanging, and
    /// is wide because a full parallel test run can leave this load a sliver of the CPU.
    static func load(_ device: any BlockDevice, ios: Int = 1000) -> VerifiedLoad {
        VerifiedLoad(device: device, ioSize: 4096, queueDepth: 4, duration: .seconds(180), maxIOs: ios, rangeBytes: 128 << 10, pinToDevice: false)
    }

    static func image(_ directory: TemporaryDirectory) throws -> FileBlockDevice {
        try FileBlockDevice.create(path: directory.file("lun.img"), byteCount: 1 << 20)
    }

    @Test func aCleanRunChecksEveryReadAndReadsBackWhatItWrote() async throws {
        let directory = TemporaryDirectory("verify-clean")
        let device = try Self.image(directory)
        let (tally, _) = try await Self.load(device).run()
        #expect(tally.errors == 0 && tally.miscompares == 0, "\(tally.text(seconds: 0))")
        #expect(tally.reads > 0 && tally.writes > 0)
        // 1000 I/Os over 32 slots of 4 KiB: every slot was written, and read back at the end.
        #expect(tally.finalChecks == 32)
        #expect(tally.longest > .zero && !tally.failed)
        try await device.close()
    }

    /// A failed write may or may not have landed; reads must accept either generation
    /// until a later write settles the slot, so the run counts errors and no miscompares.
    @Test func failedWritesAreErrorsNotMiscompares() async throws {
        let directory = TemporaryDirectory("verify-failed-writes")
        let device = FaultyWriteDevice(base: try Self.image(directory), landedEvery: 7, lostEvery: 11)
        let (tally, _) = try await Self.load(device).run()
        #expect(tally.errors > 0, "\(tally.text(seconds: 0))")
        #expect(tally.miscompares == 0, "\(tally.text(seconds: 0))")
        #expect(tally.errorMessages.count == VerifyTally.keptMessages)
        #expect(tally.errorMessages.allSatisfy { $0.text.contains("failed") })
        #expect(tally.failed)
        try await device.close()
    }

    @Test func fewerSlotsThanWorkersIsAUsageError() async throws {
        let directory = TemporaryDirectory("verify-slots")
        let device = try Self.image(directory)
        var load = Self.load(device)
        load.queueDepth = 64
        await #expect {
            _ = try await load.run()
        } throws: { error in
            guard let error = error as? CLIError else { return false }
            return error.exitCode == CLIExitCode.usage && error.message.contains("holds only 32 of 4096 bytes")
        }
        try await device.close()
    }

    @Test func aChangedBlockIsAMiscompareNamingItsLBA() async throws {
        let directory = TemporaryDirectory("verify-corrupt")
        let device = FaultyWriteDevice(base: try Self.image(directory), corruptLBA: 8 * 5 + 3)
        let (tally, _) = try await Self.load(device, ios: 400).run()
        #expect(tally.errors == 0)
        #expect(tally.miscompares > 0)
        #expect(tally.miscompareMessages.first?.text.hasPrefix("LBA 43 ") == true, "\(tally.miscompareMessages.map(\.text))")
        let json = tally.json(ioSize: 4096, queueDepth: 4, seconds: 1)
        #expect(json["miscompares"] as? Int == tally.miscompares)
        #expect((json["miscompareMessages"] as? [String])?.isEmpty == false)
        try await device.close()
    }
}
