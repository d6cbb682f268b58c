// A host lost whole: its machine crashes, or its link goes down. The surviving host takes the
// lost host's disk over by itself once the lease has run out, never before, and serves it with
// every write the lost host acknowledged; a partitioned host fences itself and stays silent when
// its link returns. Both need automatic takeover (`takeover = "auto"` on the disk).

import Foundation
import Testing
import TestSupport

extension ContainerSuite {
    @Suite(.serialized, .timeLimit(.minutes(10))) struct HostFailureContainerTests {
        /// B's port for A's disk once it has taken it over.
        static let takeoverPort = 3263

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
            #expect(bServes, "B never served its own disk: \(bJournal.suffix(3000))")
            #expect(try await cluster.writeAndVerify(SharedLUNCluster.exportURL(a), seed: seed), "A's data read back differs")
            // While A lives, B must not serve A's disk.
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

        @Test func afterAHostCrashTheOtherTakesItsDiskOverAfterTheLease() async throws {
            try await SharedLUNCluster.with(hostCount: 2) { cluster in
                try await startBoth(cluster, seed: 0xC4A54)
                let crashed = ContinuousClock.now
                await cluster.hosts[0].crash()
                let lease = Duration.seconds(SharedLUNCluster.heartbeatLease), interval = Duration.seconds(SharedLUNCluster.heartbeatInterval)
                let took = try await waitForTakeover(cluster, since: crashed, limit: lease * 3 + .seconds(30))
                let journal = try await cluster.hosts[1].journal("vdiskd.service")
                let elapsed = try #require(took, "B never served A's disk: \(journal.suffix(3000))")
                // A's last heartbeat was at most one interval before the crash.
                #expect(elapsed >= lease - interval, "B took A's disk over after \(elapsed), before the lease (\(lease)) ran out")
                // lease + two heartbeats, and slack for a loaded 2-core machine.
                #expect(elapsed <= lease + interval * 2 + .seconds(15), "takeover took \(elapsed)")
                #expect(try await readsBack(cluster, takeoverURL(cluster), seed: 0xC4A54), "a write A acknowledged did not read back through B")
                let check = try await cluster.hosts[1].run(["vdiskctl", "datastore", "check", cluster.lunURL, "--host-name", "checker"])
                #expect(check.succeeded, "datastore check: \(check.output)")
            }
        }

        @Test func aPartitionedHostFencesAndStaysSilentWhenItsLinkReturns() async throws {
            try await SharedLUNCluster.with(hostCount: 2) { cluster in
                let (a, b) = (cluster.hosts[0], cluster.hosts[1])
                try await startBoth(cluster, seed: 0x9A27)
                let cut = ContinuousClock.now
                try await a.setLink(up: false)
                let lease = Duration.seconds(SharedLUNCluster.heartbeatLease)
                let took = try await waitForTakeover(cluster, since: cut, limit: lease * 3 + .seconds(30))
                let bJournal = took != nil ? "" : try await b.journal("vdiskd.service")
                #expect(took != nil, "B never took A's disk over: \(bJournal.suffix(3000))")
                #expect(try await readsBack(cluster, takeoverURL(cluster), seed: 0x9A27), "a write A acknowledged did not read back through B")

                // A fenced itself and says so, seen from inside A (its control socket needs no network).
                let fenced = try await BoundedWait.until(timeout: lease * 2, interval: .seconds(1)) {
                    try await a.run(["vdiskctl", "datastores"]).stdout.contains("fenced")
                }
                let aSays = fenced ? "" : try await a.run(["vdiskctl", "datastores"]).output
                #expect(fenced, "A does not report fenced: \(aSays)")

                // What B writes now must survive A's link coming back: A writes nothing more.
                let bURL = takeoverURL(cluster)
                #expect(try await cluster.writeAndVerify(bURL, seed: 0xB0B), "B's write differs")
                try await a.setLink(up: true)
                try await Task.sleep(for: lease * 2)
                let clientOfA = try await cluster.lab.client(try ExternalTool.qemuImg.path(), ["dd", "-f", "raw", "-O", "raw", "bs=4096", "count=1",
                    "if=/dev/zero", "of=\(SharedLUNCluster.exportURL(a))"], timeout: .seconds(60))
                #expect(!clientOfA.succeeded, "a fenced A accepted a write after its link returned")
                #expect(try await readsBack(cluster, bURL, seed: 0xB0B), "B's data changed after A's link returned")
                // On the LUN, A's disk is B's: the lock names host-b, and the datastore is consistent.
                let locks = try await b.must(["vdiskctl", "datastore", "locks", cluster.lunURL, "--host-name", "checker"]).stdout
                let lockLine = locks.split(separator: "\n").first { $0.contains(SharedLUNCluster.diskName(a)) }
                #expect(lockLine?.contains("host-b") == true, "\(locks)")
                let check = try await b.run(["vdiskctl", "datastore", "check", cluster.lunURL, "--host-name", "checker"])
                #expect(check.succeeded, "datastore check: \(check.output)")
            }
        }
    }
}
