// vdiskd as users deploy it: the Debian package installed with dpkg in a minimal Debian 12,
// vdiskd.service started, reloaded, stopped and watched by the container's own systemd, the
// exports checked by a libiscsi client outside the container.

import Foundation
import Testing
import TestSupport

extension ContainerSuite {
    @Suite(.serialized, .timeLimit(.minutes(10))) struct PackagedServiceTests {
        @Test func packageGivesAnEnabledUnconfiguredServiceAndPurgesCleanly() async throws {
            try await ContainerLab.with { lab in
                let host = try await lab.boot("pkg", host: 20)
                // Installed by dpkg into the image (no systemd running there): enabled, so it started at boot.
                #expect(try await host.run(["systemctl", "is-enabled", "vdiskd.service"]).stdout == "enabled\n")
                let check = try await host.run(["vdiskd", "--config", "/etc/vdiskd/vdiskd.toml", "--check"])
                #expect(check.succeeded, "\(check.output)")
                let files = try await host.must(["dpkg", "--listfiles", "vdiskd"]).stdout
                for path in ["/usr/bin/vdiskd", "/usr/bin/vdiskctl", "/lib/systemd/system/vdiskd.service", "/etc/vdiskd/vdiskd.toml",
                             "/usr/share/man/man8/vdiskctl.8.gz", "/usr/share/bash-completion/completions/vdiskctl"] {
                    #expect(files.contains("\(path)\n"), "the package lacks \(path)")
                }
                #expect(try await host.must(["dpkg-query", "-W", "-f=${Conffiles}", "vdiskd"]).stdout.contains("/etc/vdiskd/vdiskd.toml"))

                // Purged, nothing of it is left; apt-get puts it back from the file alone.
                let purge = try await host.run(["apt-get", "purge", "-y", "-q", "vdiskd"], timeout: .seconds(120))
                #expect(purge.succeeded, "\(purge.output)")
                for path in ["/usr/bin/vdiskd", "/etc/vdiskd", "/var/lib/vdiskd", "/lib/systemd/system/vdiskd.service",
                             "/etc/systemd/system/multi-user.target.wants/vdiskd.service"] {
                    #expect(!FileManager.default.fileExists(atPath: host.root + path), "\(path) survived the purge")
                }
                #expect(try await host.run(["systemctl", "cat", "vdiskd.service"]).succeeded == false, "systemd still knows the unit")
                try FileManager.default.copyItem(atPath: try await ContainerImage.shared.packagePath(), toPath: host.root + "/root/vdiskd.deb")
                let install = try await host.run(["apt-get", "install", "-y", "-q", "/root/vdiskd.deb"], timeout: .seconds(120))
                #expect(install.succeeded, "\(install.output)")
                // Installed on a running system: enabled, and not started (postinst never starts it).
                #expect(try await host.run(["systemctl", "is-enabled", "vdiskd.service"]).stdout == "enabled\n")
                #expect(try await host.property("vdiskd.service", "ActiveState") == "inactive")
                #expect(try await host.property("vdiskd.service", "ExecMainStartTimestampMonotonic") == "0", "the package started the service")
            }
        }

        @Test func startServesBeforeActiveReloadAppliesAndStopReleasesEverything() async throws {
            try await SharedLUNCluster.with(hostCount: 1) { cluster in
                let host = cluster.hosts[0]
                // Type=notify: `systemctl start` returns once READY=1 came, which the daemon sends only
                // when the export serves, so a client logs in at once, without waiting or retrying.
                try await cluster.start(host)
                #expect(try await host.property("vdiskd.service", "ActiveState") == "active")
                let inquiry = try await cluster.lab.client(try ExternalTool.iscsiInq.path(), [SharedLUNCluster.exportURL(host)])
                let startJournal = inquiry.succeeded ? "" : try await host.journal("vdiskd.service")
                try #require(inquiry.succeeded, "the export did not serve when start returned: \(inquiry.output)\n\(startJournal.suffix(4000))")
                #expect(try await cluster.writeAndVerify(SharedLUNCluster.exportURL(host), seed: 0xC0_7A1E), "data read back through the export differs")
                #expect(try await host.property("vdiskd.service", "StatusText").contains("1 of 1 exports serving"))

                // Reload applies a moved export: the new portal serves, the old one is gone.
                try cluster.writeConfig(host, uuid: "5a1e0000-0000-4000-8000-000000000001", exportPort: 3262)
                let reload = try await host.run(["systemctl", "reload", "vdiskd.service"], timeout: .seconds(60))
                let reloadJournal = reload.succeeded ? "" : try await host.journal("vdiskd.service")
                #expect(reload.succeeded, "\(reload.output)\n\(reloadJournal)")
                #expect(try await cluster.lab.client(try ExternalTool.iscsiInq.path(), [SharedLUNCluster.exportURL(host, port: 3262)]).succeeded)
                #expect(try await cluster.lab.client(try ExternalTool.iscsiInq.path(), [SharedLUNCluster.exportURL(host)]).succeeded == false)
                #expect(try await host.property("vdiskd.service", "ActiveState") == "active")

                // Stop drains and logs out: Result=success, no host left on the datastore, no lock held.
                try await host.must(["systemctl", "stop", "vdiskd.service"], timeout: .seconds(60))
                #expect(try await host.property("vdiskd.service", "Result") == "success")
                #expect(try await host.property("vdiskd.service", "ExecMainStatus") == "0")
                let hosts = try await cluster.json(host, ["datastore", "hosts", cluster.lunURL]) as? [Any]
                #expect(hosts?.isEmpty == true, "a host is still mounted after stop: \(String(describing: hosts))")
                let locks = try await cluster.json(host, ["datastore", "locks", cluster.lunURL]) as? [Any]
                #expect(locks?.isEmpty == true, "locks are held after stop: \(String(describing: locks))")
            }
        }

        @Test func aHungDaemonIsKilledByTheWatchdogAndServesAgain() async throws {
            try await SharedLUNCluster.with(hostCount: 1) { cluster in
                let host = cluster.hosts[0]
                try await cluster.start(host)
                let firstPID = try await host.property("vdiskd.service", "MainPID")
                try await host.must(["systemctl", "kill", "--kill-whom=main", "--signal=SIGSTOP", "vdiskd.service"])
                // The watchdog fires after WatchdogSec (20 s); RestartSec later a new daemon serves.
                let restarted = try await BoundedWait.until(timeout: .seconds(120), interval: .seconds(1)) {
                    let pid = try await host.property("vdiskd.service", "MainPID")
                    let state = try await host.property("vdiskd.service", "ActiveState")
                    return state == "active" && pid != firstPID && pid != "0"
                }
                let journal = try await host.journal("vdiskd.service")
                #expect(restarted, "vdiskd was not restarted after the watchdog: \(journal.suffix(3000))")
                #expect(journal.contains("Watchdog timeout"), "systemd did not report the watchdog: \(journal.suffix(3000))")
                #expect(Int(try await host.property("vdiskd.service", "NRestarts")) ?? 0 >= 1)
                #expect(try await cluster.writeAndVerify(SharedLUNCluster.exportURL(host), seed: 0x0DD_B10C), "the restarted daemon does not serve")
            }
        }

        @Test func controlGroupMembersChangeReadersReadOthersAreRefusedAndChangesSurviveARestart() async throws {
            try await SharedLUNCluster.with(hostCount: 1) { cluster in
                let host = cluster.hosts[0]
                try await host.must(["useradd", "--no-create-home", "--groups", "\(SharedLUNCluster.readGroup),\(SharedLUNCluster.adminGroup)", "alice"])
                try await host.must(["useradd", "--no-create-home", "--groups", SharedLUNCluster.readGroup, "carol"])
                try await host.must(["useradd", "--no-create-home", "bob"])
                try await cluster.start(host)

                // alice (both groups) reads and changes: a new disk, opened and then closed again.
                let status = try await host.run(as: "alice", ["vdiskctl", "status"])
                #expect(status.succeeded, "\(status.output)")
                let create = try await host.run(as: "alice", ["vdiskctl", "disks", "create", "ds1", "extra", "--size", "4MiB"])
                #expect(create.succeeded, "\(create.output)")
                let open = try await host.run(as: "alice", ["vdiskctl", "disks", "open", "ds1", "extra"])
                #expect(open.succeeded, "\(open.output)")
                let disks = try await host.run(as: "alice", ["vdiskctl", "disks"])
                #expect(disks.stdout.contains("extra"), "\(disks.output)")

                // The change survives `systemctl restart`: a new daemon opens the disk again from
                // the live changes it keeps in its state directory.
                let firstPID = try await host.property("vdiskd.service", "MainPID")
                try await host.must(["systemctl", "restart", "vdiskd.service"], timeout: .seconds(90))
                #expect(try await host.property("vdiskd.service", "ActiveState") == "active")
                #expect(try await host.property("vdiskd.service", "MainPID") != firstPID, "systemctl restart did not start a new daemon")
                let afterRestart = try await host.run(as: "alice", ["vdiskctl", "disks"])
                #expect(afterRestart.stdout.contains("extra"), "the disk opened through the control socket is gone after systemctl restart: \(afterRestart.output)")

                // carol (readers only) reads, and is refused a change.
                #expect(try await host.run(as: "carol", ["vdiskctl", "disks"]).succeeded)
                let refused = try await host.run(as: "carol", ["vdiskctl", "disks", "close", "ds1", "extra"])
                #expect(!refused.succeeded)
                #expect(refused.output.contains("not permitted"), "\(refused.output)")

                // bob (neither group) cannot even connect.
                let outsider = try await host.run(as: "bob", ["vdiskctl", "status"])
                #expect(!outsider.succeeded)
                #expect(outsider.output.lowercased().contains("permission denied"), "\(outsider.output)")
                #expect(try await host.run(as: "alice", ["vdiskctl", "disks", "close", "ds1", "extra"]).succeeded)
            }
        }
    }
}
