// A host lost whole: its machine crashes, or its link goes down. The surviving host takes the
// lost host's disk over by itself once the lease has run out, never before, and serves it with
// every write the lost host acknowledged; a partitioned host fences itself, and the target's LUN
// file shows that nothing of it arrives after its lease, nor when its link returns. Both need
// automatic takeover (`takeover = "auto"` on B's copy of A's disk).

import Foundation
import NIOConcurrencyHelpers
import Testing
import TestSupport

extension ContainerSuite {
    @Suite(.serialized, .timeLimit(.minutes(10))) struct HostFailureContainerTests {
        /// B's port for A's disk once it has taken it over.
        static let takeoverPort = 3263
        static let chunk = 64 << 10
        static let lease = Duration.seconds(SharedLUNCluster.heartbeatLease)
        static let interval = Duration.seconds(SharedLUNCluster.heartbeatInterval)

        /// Host B's config: its own disk and export, and A's disk with automatic takeover and an
        /// export of its own on B.
        private func configureTakeover(_ cluster: SharedLUNCluster) throws {
            let (a, b) = (cluster.hosts[0], cluster.hosts[1])
            try cluster.writeConfig(b, uuid: "5a1e0000-0000-4000-8000-000000000002")
            let path = b.root + "/etc/vdiskd/vdiskd.toml"
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data("""

                [[disk]]
                datastore = "ds1"
                name = "\(SharedLUNCluster.diskName(a))"
                mode = "exclusive"
                takeover = "auto"

                [[export]]
                name = "\(SharedLUNCluster.diskName(a))"
                iqn = "\(SharedLUNCluster.exportIQN(a))"
                listen = ["\(b.address):\(Self.takeoverPort)"]
                disks = ["ds1/\(SharedLUNCluster.diskName(a))"]

                """.utf8))
            try handle.close()
        }

        /// B's export of A's disk, as the bridge reaches it.
        private func takeoverURL(_ cluster: SharedLUNCluster) -> String {
            "iscsi://\(cluster.hosts[1].address):\(Self.takeoverPort)/\(SharedLUNCluster.exportIQN(cluster.hosts[0]))/0"
        }

        /// Starts A, then B (which waits for A's disk without blocking its own start), and writes a
        /// verified pattern through A.
        private func startBoth(_ cluster: SharedLUNCluster, seed: UInt64) async throws {
            let (a, b) = (cluster.hosts[0], cluster.hosts[1])
            try configureTakeover(cluster)
            try await cluster.start(a)
            try await cluster.start(b, ["--no-block"])
            let bServes = try await BoundedWait.until(timeout: .seconds(90), interval: .milliseconds(500)) {
                try await cluster.lab.client(try ExternalTool.iscsiInq.path(), [SharedLUNCluster.exportURL(b)]).succeeded
            }
            let bJournal = bServes ? "" : try await b.journal("vdiskd.service")
            try #require(bServes, "B never served its own disk: \(bJournal.suffix(3000))")
            #expect(try await cluster.writeAndVerify(SharedLUNCluster.exportURL(a), seed: seed), "A's data read back differs")
            // While A lives, B waits for A's disk, naming A, and does not serve it.
            let disks = try #require(try await cluster.json(b, ["disks"]) as? [[String: Any]])
            let waiting = disks.first { $0["name"] as? String == SharedLUNCluster.diskName(a) }
            #expect(waiting?["state"] as? String == "waiting" && (waiting?["reason"] as? String ?? "").contains("host-a"), "\(disks)")
            let early = try await cluster.lab.client(try ExternalTool.iscsiInq.path(), [takeoverURL(cluster)])
            #expect(!early.succeeded, "B serves A's disk while A is alive")
        }

        /// When B's export of A's disk first serves, polled every 250 ms from `since`, within `limit`.
        private func waitForTakeover(_ cluster: SharedLUNCluster, since: ContinuousClock.Instant, limit: Duration) async throws -> Duration? {
            let url = takeoverURL(cluster)
            var served: ContinuousClock.Instant?
            _ = try await BoundedWait.until(timeout: limit, interval: .milliseconds(250)) {
                if try await cluster.lab.client(try ExternalTool.iscsiInq.path(), [url], timeout: .seconds(10)).succeeded {
                    served = .now
                }
                return served != nil
            }
            return served.map { $0 - since }
        }

        /// Whether the first MiB at `url` is the pattern of `seed`.
        private func readsBack(_ cluster: SharedLUNCluster, _ url: String, seed: UInt64) async throws -> Bool {
            let scratch = try ScratchDirectory(prefix: "container-io")
            defer { scratch.remove() }
            let count = 1 << 20
            let back = scratch.file("back.bin")
            try await cluster.lab.client(try ExternalTool.qemuImg.path(), ["dd", "-f", "raw", "-O", "raw", "bs=4096", "count=\(count / 4096)", "if=\(url)", "of=\(back)"]).check()
            return try Data(contentsOf: URL(fileURLWithPath: back)) == Data(TestPattern.bytes(seed: seed, count: count).readableBytesView)
        }

        /// Writes 64 KiB chunks through `url` from `firstChunk` on, one qemu-io per chunk (the chunk's
        /// number as its byte pattern, then a flush), until one fails or `count` are done; returns
        /// the chunks acknowledged. `acknowledged` sees each as it completes.
        private func writeChunks(_ cluster: SharedLUNCluster, _ url: String, from firstChunk: Int, count: Int,
                                 acknowledged: @Sendable (Int) -> Void = { _ in }) async -> [Int] {
            var done: [Int] = []
            for chunk in firstChunk..<firstChunk + count {
                let result = try? await cluster.lab.client(try ExternalTool.qemuIo.path(), [
                    "-f", "raw", "-c", "write -P \(chunk % 255 + 1) \(chunk * Self.chunk) 64k", "-c", "flush", url,
                ], timeout: .seconds(10))
                guard let result, result.succeeded, result.stdout.contains("wrote \(Self.chunk)/\(Self.chunk)") else {
                    break
                }
                done.append(chunk)
                acknowledged(chunk)
            }
            return done
        }

        @Test func afterAHostCrashTheOtherTakesItsDiskOverAfterTheLease() async throws {
            try await SharedLUNCluster.with(hostCount: 2) { cluster in
                let a = cluster.hosts[0]
                try await startBoth(cluster, seed: 0xC4A54)
                // A client writes flushed chunks through A, after the first MiB, while A crashes.
                let acknowledgedCount = NIOLockedValueBox(0)
                let writer = Task {
                    await writeChunks(cluster, SharedLUNCluster.exportURL(a), from: 16, count: 200) { _ in acknowledgedCount.withLockedValue { $0 += 1 } }
                }
                let writing = await BoundedWait.until(timeout: .seconds(60), interval: .milliseconds(20)) { acknowledgedCount.withLockedValue { $0 } >= 5 }
                let crashed = ContinuousClock.now
                await a.crash()
                let acknowledged = await writer.value
                #expect(writing && acknowledged.count < 200, "the writer was not writing when A crashed: \(acknowledged.count) chunks")

                let took = try await waitForTakeover(cluster, since: crashed, limit: Self.lease * 3 + .seconds(30))
                let journal = try await cluster.hosts[1].journal("vdiskd.service")
                let elapsed = try #require(took, "B never served A's disk: \(journal.suffix(3000))")
                // A's last heartbeat was at most one interval before the crash.
                #expect(elapsed >= Self.lease - Self.interval, "B took A's disk over after \(elapsed), before the lease (\(Self.lease)) ran out")
                // lease + two heartbeats, and slack for a loaded 2-core machine.
                #expect(elapsed <= Self.lease + Self.interval * 2 + .seconds(15), "takeover took \(elapsed)")
                let url = takeoverURL(cluster)
                #expect(try await readsBack(cluster, url, seed: 0xC4A54), "a write A acknowledged did not read back through B")
                let verify = try await cluster.lab.client(try ExternalTool.qemuIo.path(), ["-f", "raw"] + acknowledged.flatMap { chunk in
                    ["-c", "read -P \(chunk % 255 + 1) \(chunk * Self.chunk) 64k"]
                } + [url], timeout: .seconds(60))
                #expect(verify.succeeded && !verify.stdout.contains("verification failed")
                        && verify.stdout.components(separatedBy: "read \(Self.chunk)/\(Self.chunk)").count - 1 == acknowledged.count,
                        "\(acknowledged.count) chunks A acknowledged, read through B: \(verify.output.suffix(1500))")
                let check = try await cluster.hosts[1].run(["vdiskctl", "datastore", "check", cluster.lunURL, "--host-name", "checker"])
                #expect(check.succeeded && check.stdout.contains("clean"), "datastore check: \(check.output)")
            }
        }

        @Test func aPartitionedHostFencesAndNothingOfItReachesTheLUNAfterItsLease() async throws {
            try await SharedLUNCluster.with(hostCount: 2) { cluster in
                let (a, b) = (cluster.hosts[0], cluster.hosts[1])
                let lunFile = cluster.target.root + SharedLUNCluster.lunPath
                try await startBoth(cluster, seed: 0x9A27)
                // One client session keeps A writing (1 MiB writes over 4-12 MiB, a new pattern each
                // pass) as the link goes down, so A holds writes in flight for its session's recovery:
                // none of them may reach the LUN after A's lease. 1536 writes outlast the cut: an
                // unloaded machine wrote 96 of them in under a second, before the link went down.
                let writer = Task {
                    try? await cluster.lab.client(try ExternalTool.qemuIo.path(), ["-f", "raw"] + (0..<1536).flatMap { write in
                        ["-c", "write -P \(write % 255 + 1) \(4 + write % 8)M 1M"]
                    } + [SharedLUNCluster.exportURL(a)], timeout: .seconds(20))
                }
                // Writing has begun when A's disk has blocks past its first MiB on the LUN.
                let writing = try await BoundedWait.until(timeout: .seconds(30), interval: .milliseconds(100)) {
                    (try LUNSnapshot(path: lunFile).diskUnits[SharedLUNCluster.diskName(a)]?.count ?? 0) > (1 << 20) / LUNSnapshot.unit
                }
                let cut = ContinuousClock.now
                try await a.setLink(up: false)
                let written = await writer.value
                #expect(writing && written?.succeeded != true, "A's writer never met the partition: \(written?.stdout.suffix(300) ?? "")")

                // A's last renewal was before the cut, so its lease has run out a lease after it.
                try await Task.sleep(until: cut + Self.lease + .milliseconds(500))
                let atLease = try LUNSnapshot(path: lunFile)
                let aUnits = try #require(atLease.diskUnits[SharedLUNCluster.diskName(a)], "A's disk is not on the LUN: \(atLease.diskUnits.keys)")
                // A says it is fenced as its lease runs out, not when its waiting renewal gives up
                // (that took 19 s of an 8 s lease before the lease watch): within two more heartbeat
                // intervals, and slack for a loaded machine.
                let fencedOnTime = try await BoundedWait.until(timeout: Self.interval * 2 + .seconds(3), interval: .milliseconds(250)) {
                    try await a.run(["vdiskctl", "datastores"]).stdout.contains("fenced")
                }
                let stillSays = fencedOnTime ? "" : try await a.run(["vdiskctl", "datastores"]).output
                #expect(fencedOnTime, "A still says running \(ContinuousClock.now - cut) after the cut (lease \(Self.lease)): \(stillSays)")
                // The reason says how long A had gone without a renewal when it fenced: the lease
                // and at most the watch's quarter interval, with a second of slack for a loaded machine.
                let fenceReason = "\((try await cluster.json(a, ["datastores"]) as? [[String: Any]])?.first?["reason"] ?? "none")"
                let silent = fenceReason.firstMatch(of: /could not renew its heartbeat .* for ([0-9.]+) seconds/).flatMap { Double($0.1) }
                print("partition: A fenced after \(silent.map { "\($0) s" } ?? "?") without a renewal (lease \(Self.lease)): \(fenceReason)")
                #expect(silent.map { $0 < Double(SharedLUNCluster.heartbeatLease) + 1.5 } == true, "A fenced late: \(fenceReason)")

                let took = try await waitForTakeover(cluster, since: cut, limit: Self.lease * 3 + .seconds(30))
                let bJournal = took != nil ? "" : try await b.journal("vdiskd.service")
                try #require(took != nil, "B never took A's disk over: \(bJournal.suffix(3000))")
                #expect(try await readsBack(cluster, takeoverURL(cluster), seed: 0x9A27), "a write A acknowledged did not read back through B")

                // A fenced itself and says so, seen from inside A (its control socket needs no network).
                let fenced = try await BoundedWait.until(timeout: Self.lease * 2, interval: .seconds(1)) {
                    try await a.run(["vdiskctl", "datastores"]).stdout.contains("fenced")
                }
                let aSays = fenced ? "" : try await a.run(["vdiskctl", "datastores"]).output
                #expect(fenced, "A does not report fenced: \(aSays)")

                // B writes over A's first MiB; the rest of what A had written stays A's last word.
                let bURL = takeoverURL(cluster)
                #expect(try await cluster.writeAndVerify(bURL, seed: 0xB0B), "B's write differs")
                let firstBlock = Set(atLease.diskUnits[SharedLUNCluster.diskName(a)]?.prefix(1 << 20 / LUNSnapshot.unit) ?? [])
                let onlyA = aUnits.filter { !firstBlock.contains($0) }
                let partitioned = try LUNSnapshot(path: lunFile)
                let whilePartitioned = partitioned.changed(since: atLease, among: onlyA)
                #expect(whilePartitioned.isEmpty, "A's data changed on the LUN after its lease: \(whilePartitioned.prefix(8).map(partitioned.describe))")

                // The link returns: A stays fenced and the LUN gets nothing of it. From here on the
                // only unit that may change is B's own heartbeat.
                try await a.setLink(up: true)
                try await Task.sleep(for: Self.lease * 2)
                let clientOfA = try await cluster.lab.client(try ExternalTool.qemuImg.path(), ["dd", "-f", "raw", "-O", "raw", "bs=4096", "count=1",
                    "if=/dev/zero", "of=\(SharedLUNCluster.exportURL(a))"], timeout: .seconds(60))
                #expect(!clientOfA.succeeded, "a fenced A accepted a write after its link returned")
                let back = try LUNSnapshot(path: lunFile)
                let bHeartbeat = try #require(back.slots["host-b"], "no heartbeat of host-b on the LUN: \(back.slots)")
                let afterReturn = back.changed(since: partitioned).filter { $0 != bHeartbeat }
                #expect(afterReturn.isEmpty, "the LUN changed after A's link returned: \(afterReturn.prefix(8).map(back.describe))")
                #expect(back.slots["host-a"] == nil, "A's heartbeat slot is live again: \(back.slots)")
                #expect(back.changed(since: atLease, among: onlyA).isEmpty, "A's data changed on the LUN after its lease")

                #expect(try await a.run(["vdiskctl", "datastores"]).stdout.contains("fenced"), "A no longer reports fenced")
                #expect(try await readsBack(cluster, bURL, seed: 0xB0B), "B's data changed after A's link returned")
                // On the LUN, A's disk is B's: the lock names host-b, and the datastore is consistent.
                let locks = try await b.must(["vdiskctl", "datastore", "locks", cluster.lunURL, "--host-name", "checker"]).stdout
                let lockLine = locks.split(separator: "\n").first { $0.contains(SharedLUNCluster.diskName(a)) }
                #expect(lockLine?.contains("host-b") == true, "\(locks)")
                let check = try await b.run(["vdiskctl", "datastore", "check", cluster.lunURL, "--host-name", "checker"])
                #expect(check.succeeded && check.stdout.contains("clean"), "datastore check: \(check.output)")
            }
        }
    }
}
