// The shipped unit file: verified by systemd itself, and holding the settings the issue requires.

import Daemon
import Foundation
import Testing
import TestSupport

@Suite struct SystemdUnitTests {
    private var unitPath: String { "\(ConfigFixtures.repositoryRoot)/systemd/vdiskd.service" }

    @Test func unitHasTheRequiredSettings() async throws {
        let text = try String(contentsOfFile: unitPath, encoding: .utf8)
        let lines = Set(text.split(separator: "\n").map(String.init))
        for required in [
            "Type=notify", "Restart=on-failure", "RuntimeDirectory=vdiskd", "StateDirectory=vdiskd", "NoNewPrivileges=yes",
            "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "CapabilityBoundingSet=",
            "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
        ] {
            #expect(lines.contains(required), "missing \(required)")
        }
        #expect(lines.contains { $0.hasPrefix("WatchdogSec=") })
        #expect(lines.contains { $0.hasPrefix("ReadWritePaths=") })
        // Its own unprivileged user, binaries where the Debian package puts them, and a reload that
        // needs nothing a minimal system may lack (no /bin/kill).
        for required in [
            "User=vdiskd", "Group=vdiskd", "ExecStart=/usr/bin/vdiskd --config /etc/vdiskd/vdiskd.toml",
            "ExecReload=/usr/bin/vdiskctl reload --socket /run/vdiskd/control.sock", "AmbientCapabilities=", "LimitNICE=-4",
        ] {
            #expect(lines.contains(required), "missing \(required)")
        }
        #expect(!text.contains("/bin/kill"))
        #expect(lines.filter { $0.hasPrefix("LimitNOFILE=") }.count == 1)
        // The limit holds the 14 exports at default limits that the unit's comment counts.
        let limit = lines.first { $0.hasPrefix("LimitNOFILE=") }.flatMap { Int($0.dropFirst("LimitNOFILE=".count)) }
        let exports = (0..<14).map { ExportSettings(name: "e\($0)", iqn: "iqn.2026-11.example:e\($0)", listen: [], disks: []) }
        #expect(ExportSettings.descriptorsNeeded(by: exports) == 15584)
        #expect((limit ?? 0) >= ExportSettings.descriptorsNeeded(by: exports), "LimitNOFILE=\(String(describing: limit))")
    }

    @Test func sysusersAndTmpfilesMakeTheUserAndGiveItTheConfig() async throws {
        // Applied to an empty root, as a package install applies them to the real one.
        let root = TemporaryDirectory("vdiskd-test")
        try FileManager.default.createDirectory(atPath: "\(root.path)/etc/vdiskd", withIntermediateDirectories: true)
        try root.write("etc/vdiskd/vdiskd.toml", ConfigFixtures.minimal, mode: 0o644)
        try root.write("etc/vdiskd/secrets.toml", "lun1 = \"\(TestSecrets.daemonLUN)\"\n", mode: 0o644)
        let repository = ConfigFixtures.repositoryRoot
        let sysusers = try await ProcessRunner.run("/bin/sh", ["-c", "systemd-sysusers --root=\"$1\" - < \"$2\"", "sh", root.path, "\(repository)/systemd/vdiskd.sysusers"])
        #expect(sysusers.status == 0, "\(sysusers.stderr)")
        let passwd = try String(contentsOfFile: "\(root.path)/etc/passwd", encoding: .utf8)
        let line = try #require(passwd.split(separator: "\n").first { $0.hasPrefix("vdiskd:") }, "\(passwd)")
        let account = line.split(separator: ":", omittingEmptySubsequences: false)
        try #require(account.count == 7, "\(line)")
        let uid = UInt32(account[2]) ?? 0, gid = UInt32(account[3]) ?? 0
        #expect(uid > 0 && uid < 1000, "not a system user: \(account)")
        #expect(account[5] == "/var/lib/vdiskd" && account[6] == "/usr/sbin/nologin")

        let tmpfiles = try await ProcessRunner.run("/bin/sh", ["-c", "systemd-tmpfiles --root=\"$1\" --create - < \"$2\"", "sh", root.path, "\(repository)/systemd/vdiskd.tmpfiles"])
        #expect(tmpfiles.status == 0, "\(tmpfiles.stderr)")
        func owner(_ path: String) throws -> (uid: UInt32, gid: UInt32, mode: Int) {
            let attributes = try FileManager.default.attributesOfItem(atPath: "\(root.path)/\(path)")
            return ((attributes[.ownerAccountID] as? NSNumber)?.uint32Value ?? .max, (attributes[.groupOwnerAccountID] as? NSNumber)?.uint32Value ?? .max,
                    (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1)
        }
        #expect(try owner("etc/vdiskd") == (0, gid, 0o750))
        #expect(try owner("etc/vdiskd/vdiskd.toml") == (0, gid, 0o640))
        // The secrets file becomes the daemon's own and private, as SecretsFile requires.
        #expect(try owner("etc/vdiskd/secrets.toml") == (uid, gid, 0o600))
    }

    @Test func systemdAnalyzeVerifyAcceptsTheUnit() async throws {
        // Scripts/install-deps installs systemd, which brings systemd-analyze.
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"), "systemd-analyze is missing: run Scripts/install-deps")
        // verify checks that the Exec lines' binaries exist, so the unit is verified with the built ones in their place.
        let scratch = TemporaryDirectory("vdiskd-test")
        let text = try String(contentsOfFile: unitPath, encoding: .utf8)
            .replacingOccurrences(of: "/usr/bin/vdiskd ", with: "\(ProcessRunner.productsDirectory)/vdiskd ")
            .replacingOccurrences(of: "/usr/bin/vdiskctl ", with: "\(ProcessRunner.productsDirectory)/vdiskctl ")
        let unit = try scratch.write("vdiskd.service", text)
        let output = try await ProcessRunner.run("/usr/bin/systemd-analyze", ["verify", unit])
        #expect(output.status == 0, "systemd-analyze verify: \(output.stderr)")
        #expect(!output.stderr.contains("vdiskd.service:"), "warnings about the unit: \(output.stderr)")

        // The exposure score docs/DAEMON.md records; offline mode needs no running systemd.
        let security = try await ProcessRunner.run("/usr/bin/systemd-analyze", ["security", "--offline=true", unit])
        let marker = "Overall exposure level for vdiskd.service: "
        let scoreLine = try #require(security.stdout.split(separator: "\n").first { $0.contains(marker) }, "\(security.stdout)\(security.stderr)")
        let score = try #require(Double(scoreLine.components(separatedBy: marker)[1].split(separator: " ")[0]))
        #expect(score <= 1.8, "exposure \(score): the unit lost some of its hardening")
    }
}
