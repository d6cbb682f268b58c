// The shipped unit file: verified by systemd itself, and holding the settings the issue requires.

import Foundation
import Testing

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
    }

    @Test func systemdAnalyzeVerifyAcceptsTheUnit() async throws {
        // Scripts/install-deps installs systemd, which brings systemd-analyze.
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"), "systemd-analyze is missing: run Scripts/install-deps")
        // verify checks that every Exec*= binary exists, so the unit is verified with the built vdiskd
        // and vdiskctl in their place.
        let scratch = try ScratchDirectory()
        let text = try String(contentsOfFile: unitPath, encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin/", with: "\(ProcessRunner.productsDirectory)/")
        let unit = try scratch.write("vdiskd.service", text)
        let output = try await ProcessRunner.run("/usr/bin/systemd-analyze", ["verify", unit])
        #expect(output.status == 0, "systemd-analyze verify: \(output.stderr)")
        #expect(!output.stderr.contains("vdiskd.service:"), "warnings about the unit: \(output.stderr)")

        // The exposure score docs/DAEMON.md records; offline mode needs no running systemd.
        let security = try await ProcessRunner.run("/usr/bin/systemd-analyze", ["security", "--offline=true", unit])
        let marker = "Overall exposure level for vdiskd.service: "
        let scoreLine = try #require(security.stdout.split(separator: "\n").first { $0.contains(marker) }, "\(security.stdout)\(security.stderr)")
        let score = try #require(Double(scoreLine.components(separatedBy: marker)[1].split(separator: " ")[0]))
        #expect(score <= 2.5, "exposure \(score): the unit lost some of its hardening")
    }
}
