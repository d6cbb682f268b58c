// Two hosts, each a container running the packaged vdiskd.service, sharing one datastore on the
// target container's LUN: both serve their own disk at once, the datastore stays consistent, and
// a restarted target costs the clients nothing. Hosts that keep the shipped example (no
// host_uuid) get ids of their own; two given one id are refused, the second naming the first.

import Foundation
import Testing
import TestSupport

extension ContainerSuite {
    @Suite(.serialized, .timeLimit(.minutes(10))) struct TwoHostContainerTests {
        @Test func bothHostsServeTheirDisksAndSurviveATargetRestart() async throws {
            try await SharedLUNCluster.with(hostCount: 2) { cluster in
                let (a, b) = (cluster.hosts[0], cluster.hosts[1])
                async let startA: Void = cluster.start(a)
                async let startB: Void = cluster.start(b)
                _ = try await (startA, startB)

                // Both at once: a client per host writes and verifies through each export.
                async let servedA = cluster.writeAndVerify(SharedLUNCluster.exportURL(a), seed: 0xA)
                async let servedB = cluster.writeAndVerify(SharedLUNCluster.exportURL(b), seed: 0xB)
                let served = try await (servedA, servedB)
                #expect(served.0 && served.1, "a host's data read back differs: \(served)")

                // Both hosts are live on the datastore, each holding its own disk's lock.
                let hosts = try #require(try await cluster.json(a, ["datastore", "hosts", cluster.lunURL, "--host-name", "checker"]) as? [[String: Any]])
                #expect(hosts.count >= 2, "not both hosts are mounted: \(hosts)")
                let locks = try await a.must(["vdiskctl", "datastore", "locks", cluster.lunURL, "--host-name", "checker"]).stdout
                #expect(locks.contains("host-a") && locks.contains("host-b"), "\(locks)")
                let check = try await a.run(["vdiskctl", "datastore", "check", cluster.lunURL, "--host-name", "checker"])
                #expect(check.succeeded && check.stdout.contains("clean"), "datastore check: \(check.output)")

                // tgtd killed outright by its PID; its unit (Restart=on-failure) brings it back
                // after 3 s, a drop-in's RestartSec, as an administrator's restart would.
                let restarted = ContinuousClock.now
                let target = cluster.target
                try target.write("[Service]\nRestartSec=3s\n", to: try target.makeDirectory("/etc/systemd/system/tgt.service.d") + "/restart.conf")
                try await target.must(["systemctl", "daemon-reload"])
                let oldPID = try await target.property("tgt.service", "MainPID")
                try #require(Int(oldPID) ?? 0 > 1, "tgt.service has no main process: \(oldPID)")
                // The tree has no procps: bash's own kill.
                try await target.must(["bash", "-c", "kill -KILL \(oldPID)"])
                // Clients write and read while the target is away: their I/O waits for the hosts'
                // sessions to recover and then completes, with no error reaching them.
                async let duringA = cluster.writeAndVerify(SharedLUNCluster.exportURL(a), seed: 0xA2)
                async let duringB = cluster.writeAndVerify(SharedLUNCluster.exportURL(b), seed: 0xB2)
                let back = try await BoundedWait.until(timeout: .seconds(30), interval: .milliseconds(200)) {
                    let pid = try await target.property("tgt.service", "MainPID")
                    return try await target.property("tgt.service", "ActiveState") == "active" && pid != oldPID && pid != "0"
                }
                let targetJournal = back ? "" : try await target.journal("tgt.service")
                #expect(back, "tgt did not come back: \(targetJournal.suffix(2000))")
                let during = try await (duringA, duringB)
                #expect(during.0 && during.1, "I/O across the target restart differs: \(during)")
                for host in [a, b] {
                    let targets = try #require(try await cluster.json(host, ["targets"]) as? [[String: Any]])
                    #expect(targets.first?["state"] as? String == "running", "\(host.machine): \(targets)")
                    #expect((targets.first?["reconnects"] as? Int ?? 0) >= 1, "\(host.machine) never reconnected: \(targets)")
                    #expect(try await host.property("vdiskd.service", "ActiveState") == "active")
                    #expect(try await host.property("vdiskd.service", "NRestarts") == "0", "\(host.machine)'s daemon was restarted")
                }
                #expect(ContinuousClock.now - restarted < .seconds(120))
            }
        }

        @Test func hostsThatKeepTheExampleConfigGetIDsOfTheirOwnAndASharedIDIsRefused() async throws {
            // The example config the package installs (its /etc/vdiskd/vdiskd.toml) sets no host_uuid.
            let example = try String(contentsOfFile: try await ContainerImage.shared.layers()[0] + "/etc/vdiskd/vdiskd.toml", encoding: .utf8)
            #expect(!example.split(separator: "\n").contains { $0.hasPrefix("host_uuid") }, "the example sets a host_uuid")
            try await SharedLUNCluster.with(hostCount: 2) { cluster in
                let (a, b) = (cluster.hosts[0], cluster.hosts[1])
                try cluster.writeConfig(a, uuid: nil)
                try cluster.writeConfig(b, uuid: nil)
                async let startA: Void = cluster.start(a)
                async let startB: Void = cluster.start(b)
                _ = try await (startA, startB)

                // Each host's id is its machine's application-specific id, as systemd itself
                // derives it there, and the two differ: both serve.
                var ids: [String] = []
                for host in [a, b] {
                    let datastores = try #require(try await cluster.json(host, ["datastores"]) as? [[String: Any]])
                    #expect(datastores.first?["state"] as? String == "running", "\(host.machine): \(datastores)")
                    let id = try #require(datastores.first?["host_uuid"] as? String, "\(datastores)")
                    let systemd = try await host.must(["systemd-id128", "-a", "3b26735fd56f42c4849ede6ea004f788", "machine-id", "-u"]).stdout
                    #expect(id == systemd.trimmingCharacters(in: .whitespacesAndNewlines), "\(host.machine): \(id) against systemd's \(systemd)")
                    ids.append(id)
                }
                #expect(Set(ids).count == 2, "both hosts have one id: \(ids)")
                async let servedA = cluster.writeAndVerify(SharedLUNCluster.exportURL(a), seed: 0x1D)
                async let servedB = cluster.writeAndVerify(SharedLUNCluster.exportURL(b), seed: 0x1E)
                let served = try await (servedA, servedB)
                #expect(served.0 && served.1, "a host's data read back differs: \(served)")

                // Two hosts given one id (machines cloned without new machine ids) are two
                // processes claiming one identity: the second is refused, naming the first.
                try await b.must(["systemctl", "stop", "vdiskd.service"], timeout: .seconds(60))
                try cluster.writeConfig(b, uuid: ids[0])
                try await cluster.start(b)
                let datastores = try #require(try await cluster.json(b, ["datastores"]) as? [[String: Any]])
                let reason = "\(datastores.first?["reason"] ?? datastores)".lowercased()
                #expect(datastores.first?["state"] as? String == "failed", "\(datastores)")
                #expect(reason.contains(ids[0]) && reason.contains("already mounted") && reason.contains("host-a") && reason.contains("use another host id"), "\(reason)")
                // a keeps its slot and serves; the LUN has one live host.
                #expect(try await cluster.writeAndVerify(SharedLUNCluster.exportURL(a), seed: 0x1F), "a's data read back differs")
                let hosts = try #require(try await cluster.json(a, ["datastore", "hosts", cluster.lunURL, "--host-name", "checker"]) as? [[String: Any]])
                #expect(hosts.filter { $0["state"] as? String == "live" }.count == 1, "\(hosts)")
            }
        }
    }
}
