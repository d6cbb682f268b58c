// Hosts as separate vdiskctl processes on one image: concurrent disks without overlap,
// "locked by host H since T", SIGKILL and lease-bound takeover, a revived host fenced.

import Datastore
import Foundation
import TestSupport
import Testing

@Suite(.serialized) struct DatastoreProcessTests {
    /// Short heartbeats so takeovers happen in seconds; the lease is four intervals.
    static let timing = ["--heartbeat-interval", "1s", "--lease", "4s"]
    static let lease: Duration = .seconds(4)

    private func vdiskctl(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await ChildProcess.run(arguments, timeout: timeout)
    }

    private func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(T.self, from: Data(text.utf8))
    }

    /// Formats a fresh image and writes a copy template of `templateBytes` beside it.
    private func makeDatastore(_ directory: TemporaryDirectory, templateBytes: Int = 64 << 10) async throws -> (image: String, template: String) {
        let image = directory.file("ds.img")
        let format = try await vdiskctl(["datastore", "format", image, "--label", "shared", "--image-size", "256M", "--block-size", "64k", "--max-hosts", "8"])
        #expect(format.status == 0, "\(format.stderr)")
        let template = directory.file("template.bin")
        try Data(DatastoreFixture.pattern(templateBytes, seed: 77)).write(to: URL(fileURLWithPath: template))
        return (image, template)
    }

    /// What `disk write --repeat` puts at `offset`: the template, its first 8 bytes the offset.
    private func stampedCopy(_ template: [UInt8], offset: UInt64) -> [UInt8] {
        var copy = template
        withUnsafeBytes(of: offset.littleEndian) { copy.replaceSubrange(0..<8, with: $0) }
        return copy
    }

    private func ackedOffsets(_ lines: [String]) -> [UInt64] {
        lines.compactMap { $0.hasPrefix("acked ") ? UInt64($0.dropFirst(6)) : nil }
    }

    /// Every acknowledged copy is in `image` (a whole-disk dump) byte for byte.
    private func expectCopies(_ offsets: [UInt64], in dump: [UInt8], template: [UInt8], disk: String) {
        #expect(!offsets.isEmpty)
        for offset in offsets {
            let range = Int(offset)..<Int(offset) + template.count
            #expect(Array(dump[range]) == stampedCopy(template, offset: offset), "disk \(disk): acknowledged copy at \(offset) is not there")
        }
    }

    private func expectClean(_ image: String) async throws {
        let check = try await vdiskctl(["datastore", "check", image, "--json"])
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        let report = try decode(CheckReport.self, check.stdout)
        #expect(report.isClean, "\(report.issues)")
        let hosts = try await vdiskctl(["datastore", "hosts", image, "--json"])
        #expect(try decode([HostSlotInfo].self, hosts.stdout).isEmpty, "hosts left mounted: \(hosts.stdout)")
        let locks = try await vdiskctl(["datastore", "locks", image, "--json"])
        // A killed host may leave a lock record behind; it must be known stale, blocking nobody.
        #expect(try decode([LockInfo].self, locks.stdout).allSatisfy(\.isStale), "locks left held: \(locks.stdout)")
    }

    private func dump(_ image: String, disk: String, size: Int, to path: String, extra: [String] = []) async throws -> (status: Int32, stderr: String, bytes: [UInt8], elapsed: Duration) {
        let started = ContinuousClock.now
        let read = try await vdiskctl(["disk", "read", image, disk, "--offset", "0", "--length", "\(size)", "--out", path] + extra)
        let elapsed = ContinuousClock.now - started
        let bytes = read.status == 0 ? [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) : []
        return (read.status, read.stderr, bytes, elapsed)
    }

    /// Copies each writer makes: about three times round a 32 MiB disk at a 192 KiB stride.
    static let copies = 500

    @Test func twoHostProcessesWriteTheirOwnDisksAtOnce() async throws {
        let directory = TemporaryDirectory("ds-procs")
        let (image, templatePath) = try await makeDatastore(directory, templateBytes: 100_000)
        let template = DatastoreFixture.pattern(100_000, seed: 77)
        let size = 32 << 20

        // Both hosts create their disks at the same moment.
        async let createA = vdiskctl(["disk", "create", image, "disk-a", "--size", "32M", "--host-name", "host-a"])
        async let createB = vdiskctl(["disk", "create", image, "disk-b", "--size", "32M", "--host-name", "host-b"])
        let (createdA, createdB) = try await (createA, createB)
        #expect(createdA.status == 0, "\(createdA.stderr)")
        #expect(createdB.status == 0, "\(createdB.stderr)")

        // Both write at once; the first 170 copies land in new file blocks, so both allocate
        // all along; then the copies wrap around the disk (a slot's copy is always the same
        // bytes), which keeps host A writing, and holding its lock, while host B intrudes.
        let writeA = ["disk", "write", image, "disk-a", "--offset", "0", "--in", templatePath, "--repeat", "\(Self.copies)", "--stride", "192k", "--fua", "--host-name", "host-a"]
        var writerA = try ChildProcess(writeA)
        let writerB = try ChildProcess(["disk", "write", image, "disk-b", "--offset", "0", "--in", templatePath, "--repeat", "\(Self.copies)", "--stride", "192k", "--fua", "--host-name", "host-b"])
        _ = try await writerA.waitForLines(prefix: "acked", count: 3)
        _ = try await writerB.waitForLines(prefix: "acked", count: 3)

        // Host B reaching for host A's disk meanwhile is refused, naming A and the time. On a
        // loaded machine host A can finish its copies before the intruding process has even
        // mounted; then the answer proves nothing, and host A writes the same copies again
        // (same bytes, same offsets) for another try, three at most.
        var intrusion = try await vdiskctl(["disk", "write", image, "disk-a", "--offset", "0", "--in", templatePath, "--host-name", "host-b"])
        var attempts = 1
        while !writerA.isRunning, attempts < 3 {
            #expect(try await writerA.wait(timeout: .seconds(120)) == 0, "\(writerA.stderr)")
            writerA = try ChildProcess(writeA)
            _ = try await writerA.waitForLines(prefix: "acked", count: 3)
            intrusion = try await vdiskctl(["disk", "write", image, "disk-a", "--offset", "0", "--in", templatePath, "--host-name", "host-b"])
            attempts += 1
        }
        #expect(writerA.isRunning, "host A's writer ended before the intrusion was answered, \(attempts) times; the refusal below proves nothing")
        #expect(intrusion.status == 77)
        #expect(intrusion.stderr.contains("is locked by host 'host-a'"), "\(intrusion.stderr)")
        #expect(intrusion.stderr.range(of: #"since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"#, options: .regularExpression) != nil, "\(intrusion.stderr)")
        #expect(intrusion.stderr.split(separator: "\n").count == 1, "one line: \(intrusion.stderr)")

        #expect(try await writerA.wait(timeout: .seconds(120)) == 0, "\(writerA.stderr)")
        #expect(try await writerB.wait(timeout: .seconds(120)) == 0, "\(writerB.stderr)")
        let offsetsA = ackedOffsets(writerA.lines)
        let offsetsB = ackedOffsets(writerB.lines)
        #expect(offsetsA.count == Self.copies && offsetsB.count == Self.copies)

        // Each disk holds exactly its own host's copies, and zeros between them.
        for (disk, offsets) in [("disk-a", offsetsA), ("disk-b", offsetsB)] {
            let read = try await dump(image, disk: disk, size: size, to: directory.file("\(disk).out"))
            #expect(read.status == 0, "\(read.stderr)")
            expectCopies(offsets, in: read.bytes, template: template, disk: disk)
            let gap = Int(offsets[0]) + template.count..<Int(offsets[1])
            #expect(read.bytes[gap].allSatisfy { $0 == 0 }, "disk \(disk): the gap between copies is not zero")
        }
        // check finds no block used twice (nor leaked, nor any bad checksum), and no host or lock is left.
        try await expectClean(image)
    }

    @Test func aKilledHostsLockIsBrokenAfterTheLeaseAndItsAcknowledgedWritesSurvive() async throws {
        let directory = TemporaryDirectory("ds-kill")
        let (image, templatePath) = try await makeDatastore(directory)
        let template = DatastoreFixture.pattern(64 << 10, seed: 77)
        let created = try await vdiskctl(["disk", "create", image, "vm", "--size", "32M"])
        #expect(created.status == 0, "\(created.stderr)")

        let writer = try ChildProcess(["disk", "write", image, "vm", "--offset", "0", "--in", templatePath, "--repeat", "100000", "--stride", "96k", "--fua", "--host-name", "host-a"] + Self.timing)
        _ = try await writer.waitForLines(prefix: "acked", count: 25)
        writer.signal(SIGKILL)
        try await writer.wait(timeout: .seconds(10))
        let acked = ackedOffsets(writer.lines)

        // At once: locked, naming the dead host.
        let early = try await vdiskctl(["disk", "read", image, "vm", "--offset", "0", "--length", "4k", "--out", directory.file("early"), "--host-name", "host-b"] + Self.timing)
        #expect(early.status == 77)
        #expect(early.stderr.contains("is locked by host 'host-a'"), "\(early.stderr)")
        // Waiting less than a lease is not enough: the lock stands.
        let patient = try await dump(image, disk: "vm", size: 4096, to: directory.file("patient"), extra: ["--host-name", "host-b", "--lock-wait", "2s"] + Self.timing)
        #expect(patient.status == 77, "\(patient.stderr)")
        #expect(patient.stderr.contains("can be broken after"), "\(patient.stderr)")
        // Waiting past a lease of its own observation: host B breaks the lock, replays A's journal.
        let taken = try await dump(image, disk: "vm", size: 32 << 20, to: directory.file("vm.out"), extra: ["--host-name", "host-b", "--lock-wait", "30s"] + Self.timing)
        #expect(taken.status == 0, "\(taken.stderr)")
        #expect(taken.elapsed >= Self.lease, "the lock was broken after \(taken.elapsed), before the lease")
        #expect(taken.stderr.contains("recovered host 'host-a'"), "\(taken.stderr)")
        expectCopies(acked, in: taken.bytes, template: template, disk: "vm")
        try await expectClean(image)
    }

    @Test func aRevivedHostWithItsOldGenerationCannotWrite() async throws {
        let directory = TemporaryDirectory("ds-revive")
        let (image, templatePath) = try await makeDatastore(directory)
        let created = try await vdiskctl(["disk", "create", image, "vm", "--size", "32M"])
        #expect(created.status == 0, "\(created.stderr)")

        let writer = try ChildProcess(["disk", "write", image, "vm", "--offset", "0", "--in", templatePath, "--repeat", "100000", "--stride", "96k", "--fua", "--host-name", "host-a"] + Self.timing)
        _ = try await writer.waitForLines(prefix: "acked", count: 10)
        writer.signal(SIGSTOP)
        try await Task.sleep(for: .milliseconds(100))
        let ackedWhileAlive = ackedOffsets(writer.lines).count

        // Host B takes the disk over and overwrites the first copy.
        let mine = directory.file("mine.bin")
        let data = DatastoreFixture.pattern(4096, seed: 5)
        try Data(data).write(to: URL(fileURLWithPath: mine))
        let takeover = try await vdiskctl(["disk", "write", image, "vm", "--offset", "0", "--in", mine, "--fua", "--host-name", "host-b", "--lock-wait", "30s"] + Self.timing)
        #expect(takeover.status == 0, "\(takeover.stderr)")
        #expect(takeover.stderr.contains("recovered host 'host-a'"), "\(takeover.stderr)")

        // A wakes up, still believing in its old generation: it is fenced before writing more.
        writer.signal(SIGCONT)
        let status = try await writer.wait(timeout: .seconds(30))
        #expect(status == 77, "\(writer.stderr)")
        #expect(writer.stderr.contains("fenced"), "\(writer.stderr)")
        // At most the one write that was under way when it stopped completes.
        #expect(ackedOffsets(writer.lines).count <= ackedWhileAlive + 1)

        let read = try await dump(image, disk: "vm", size: 4096, to: directory.file("first"))
        #expect(read.status == 0, "\(read.stderr)")
        #expect(read.bytes == data, "host B's write was overwritten by the fenced host")
        try await expectClean(image)
    }
}
