// Crash and takeover through real targets with hosts as separate vdiskctl processes:
// A is SIGKILLed while writing with FUA, B breaks its lock after the lease and not
// before, every acknowledged write survives, and a revived A cannot write.

import Datastore
import Foundation
import Testing
import TestSupport

// LIO's cases may wait for the shared guest's first boot: minutes on a busy machine.
@Suite(.timeLimit(.minutes(10)))
struct DatastoreTakeoverIntegrationTests {
    /// Renew every second, presumed dead after four: takeovers in seconds.
    static let timing = ["--heartbeat-interval", "1s", "--lease", "4s"]
    static let lease: Duration = .seconds(4)
    static let templateBytes = 64 << 10
    static let diskBytes = 32 << 20

    private func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(T.self, from: Data(text.utf8))
    }

    /// Formats the LUN through vdiskctl (the probe picks the lock mode), creates disk
    /// "vm", and writes the template copies are made of.
    private func prepare(_ lun: SharedLUN, target: RealTarget) async throws -> (template: [UInt8], templatePath: String) {
        let format = try await VDiskCtlProcess.run(["datastore", "format", lun.url, "--label", "takeover", "--block-size", "64k", "--max-hosts", "8", "--max-disks", "16"], in: lun.directory)
        #expect(format.status == 0, "\(format.stderr)")
        let info = try await VDiskCtlProcess.run(["datastore", "info", lun.url, "--json"], in: lun.directory)
        #expect(try decode(DatastoreInfo.self, info.stdout).lockMode == (target.expectedLockMode == .ats ? "ats" : "reservations"))
        let created = try await VDiskCtlProcess.run(["disk", "create", lun.url, "vm", "--size", "\(Self.diskBytes)"], in: lun.directory)
        #expect(created.status == 0, "\(created.stderr)")
        let template = TestBytes.make(Self.templateBytes, seed: 77)
        let path = lun.directory.file("template.bin")
        try Data(template).write(to: URL(fileURLWithPath: path))
        return (template, path)
    }

    /// How host A makes each write durable before acknowledging it.
    enum Durability: String, CaseIterable, Sendable {
        /// Each write carries FUA.
        case fua = "--fua"
        /// Each write is followed by SYNCHRONIZE CACHE.
        case flush = "--flush-each"
    }

    /// Host A: writes stamped copies of the template until stopped, printing "acked OFFSET"
    /// after each write (and, with `.flush`, its SYNCHRONIZE CACHE) returned.
    private func startWriter(_ lun: SharedLUN, templatePath: String, durability: Durability = .fua) async throws -> VDiskCtlProcess {
        try await VDiskCtlProcess.start(
            ["disk", "write", lun.url, "vm", "--offset", "0", "--in", templatePath, "--repeat", "100000", "--stride", "96k",
             durability.rawValue, "--host-name", "host-a"] + Self.timing,
            in: lun.directory
        )
    }

    private func ackedOffsets(_ lines: [String]) -> [UInt64] {
        lines.compactMap { $0.hasPrefix("acked ") ? UInt64($0.dropFirst(6)) : nil }
    }

    /// Reads `length` bytes of "vm" from offset 0 as host B; returns the bytes and how long it took.
    private func readAsB(_ lun: SharedLUN, length: Int, extra: [String]) async throws -> (status: Int32, stderr: String, bytes: [UInt8], elapsed: Duration) {
        let out = lun.directory.file("read-\(UUID().uuidString.prefix(8)).bin")
        let started = ContinuousClock.now
        let read = try await VDiskCtlProcess.run(
            ["disk", "read", lun.url, "vm", "--offset", "0", "--length", "\(length)", "--out", out, "--host-name", "host-b"] + Self.timing + extra,
            in: lun.directory
        )
        let elapsed = ContinuousClock.now - started
        let bytes = read.status == 0 ? [UInt8](try Data(contentsOf: URL(fileURLWithPath: out))) : []
        return (read.status, read.stderr, bytes, elapsed)
    }

    /// check is clean, no host is left mounted, and any lock left behind is stale.
    private func expectClean(_ lun: SharedLUN) async throws {
        let check = try await VDiskCtlProcess.run(["datastore", "check", lun.url, "--json"], in: lun.directory)
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        let report = try decode(CheckReport.self, check.stdout)
        #expect(report.isClean, "\(report.issues)")
        let hosts = try await VDiskCtlProcess.run(["datastore", "hosts", lun.url, "--json"], in: lun.directory)
        #expect(try decode([HostSlotInfo].self, hosts.stdout).isEmpty, "hosts left mounted: \(hosts.stdout)")
        let locks = try await VDiskCtlProcess.run(["datastore", "locks", lun.url, "--json"], in: lun.directory)
        #expect(try decode([LockInfo].self, locks.stdout).allSatisfy(\.isStale), "locks left held: \(locks.stdout)")
    }

    /// On LIO with a flush after each copy this found a race: the host that took the disk over
    /// left its heartbeat slot live after its read, when its unmount freed the slot while a
    /// renewal was still in flight (HeartbeatUnmountRaceTests holds it on purpose).
    @Test(arguments: RealTarget.allCases, Durability.allCases)
    func aKilledHostsLockIsBrokenAfterTheLeaseAndItsAcknowledgedWritesSurvive(target: RealTarget, durability: Durability) async throws {
        try await killedHostTakeover(target: target, durability: durability)
    }

    private func killedHostTakeover(target: RealTarget, durability: Durability) async throws {
        try await target.withLUN(size: 128 << 20) { lun in
            let (template, templatePath) = try await prepare(lun, target: target)
            let writer = try await startWriter(lun, templatePath: templatePath, durability: durability)
            _ = try await writer.waitForLines(prefix: "acked", count: 25)
            writer.signal(SIGKILL)
            #expect(try await writer.wait(timeout: .seconds(10)) == 128 + SIGKILL)
            let acked = ackedOffsets(writer.lines)

            // At once: locked, naming the dead host.
            let early = try await readAsB(lun, length: 4096, extra: [])
            #expect(early.status == 77)
            #expect(early.stderr.contains("is locked by host 'host-a'"), "\(early.stderr)")
            // Waiting less than a lease is not enough.
            let patient = try await readAsB(lun, length: 4096, extra: ["--lock-wait", "2s"])
            #expect(patient.status == 77, "\(patient.stderr)")
            #expect(patient.stderr.contains("can be broken after"), "\(patient.stderr)")
            // Past a lease of B's own observation, B recovers A and reads every acknowledged copy.
            let taken = try await readAsB(lun, length: Self.diskBytes, extra: ["--lock-wait", "30s"])
            #expect(taken.status == 0, "\(taken.stderr)")
            #expect(taken.elapsed >= Self.lease, "the lock was broken after \(taken.elapsed), before the \(Self.lease) lease")
            #expect(taken.stderr.contains("recovered host 'host-a'"), "\(taken.stderr)")
            #expect(acked.count >= 25)
            for offset in acked {
                var copy = template
                withUnsafeBytes(of: offset.littleEndian) { copy.replaceSubrange(0..<8, with: $0) }
                let range = Int(offset)..<Int(offset) + template.count
                #expect(taken.bytes.count == Self.diskBytes && Array(taken.bytes[range]) == copy, "acknowledged copy at \(offset) is missing")
            }
            try await expectClean(lun)
        }
    }

    @Test(arguments: RealTarget.allCases)
    func aRevivedHostWithItsOldGenerationCannotWrite(target: RealTarget) async throws {
        try await target.withLUN(size: 128 << 20) { lun in
            let (_, templatePath) = try await prepare(lun, target: target)
            let writer = try await startWriter(lun, templatePath: templatePath)
            _ = try await writer.waitForLines(prefix: "acked", count: 10)
            writer.signal(SIGSTOP)
            try await Task.sleep(for: .milliseconds(100))
            let ackedWhileAlive = ackedOffsets(writer.lines).count

            // B takes the disk over (after a lease of A's silence) and overwrites the first copy.
            let mine = lun.directory.file("mine.bin")
            let data = TestBytes.make(4096, seed: 5)
            try Data(data).write(to: URL(fileURLWithPath: mine))
            let takeover = try await VDiskCtlProcess.run(
                ["disk", "write", lun.url, "vm", "--offset", "0", "--in", mine, "--fua", "--host-name", "host-b", "--lock-wait", "30s"] + Self.timing,
                in: lun.directory
            )
            #expect(takeover.status == 0, "\(takeover.stderr)")
            #expect(takeover.stderr.contains("recovered host 'host-a'"), "\(takeover.stderr)")

            // A wakes believing in its old generation: it is fenced before it writes again.
            writer.signal(SIGCONT)
            let status = try await writer.wait(timeout: .seconds(30))
            #expect(status == 77, "\(writer.stderr)")
            #expect(writer.stderr.contains("fenced"), "\(writer.stderr)")
            // At most the one write under way when it stopped completes.
            #expect(ackedOffsets(writer.lines).count <= ackedWhileAlive + 1)

            let read = try await readAsB(lun, length: 4096, extra: [])
            #expect(read.status == 0, "\(read.stderr)")
            #expect(read.bytes == data, "host B's write was overwritten by the fenced host")
            try await expectClean(lun)
        }
    }
}
