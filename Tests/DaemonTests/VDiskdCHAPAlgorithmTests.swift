// The per-target CHAP algorithm list, end to end against tgt 1.0.85, which picks SHA-256 when
// offered and then refuses every SHA-256 answer: with `chap_algorithms = ["md5"]` the daemon's
// target session logs in, without it the target fails as an authentication failure (there is
// no silent retry with MD5); `vdiskctl target inquiry --chap-algorithms md5` likewise, and an
// unknown algorithm is a usage error naming it.

import Control
import Daemon
import Foundation
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(3))) struct VDiskdCHAPAlgorithmTests {
    static let iqn = "iqn.2026-11.org.vdiskd.test:chap-algorithms"
    static let chap = CHAPAuthentication.oneWay(user: "alice", secret: TestSecrets.daemonTargetInitiator)

    private var vdiskctl: String { "\(ProcessRunner.productsDirectory)/vdiskctl" }

    /// The state and reason `targets.list` gives the daemon's one target, with `targetKeys` added to it.
    private func targetState(_ tgt: TgtTarget, targetKeys: String) async throws -> (state: String?, reason: String?, stderr: String) {
        let scratch = TemporaryDirectory("vdiskd-test")
        let secrets = try scratch.write("secrets.toml", "lun1 = \"\(TestSecrets.daemonTargetInitiator)\"\n", mode: 0o600)
        let daemon = try DaemonProcess.start(
            in: scratch, tgt: "\(tgt.portal.host):\(tgt.portal.port)", lunIQN: Self.iqn, exportPort: try LoopbackPort.reserve()
        ) { text in
            // At debug level, where ServiceLifecycle logs every service with its config.
            text.replacingOccurrences(of: "log_level = \"info\"", with: "log_level = \"debug\"")
                .replacingOccurrences(of: "[daemon]\n", with: "[daemon]\nsecrets_file = \"\(secrets)\"\n")
                .replacingOccurrences(of: "lun = 1\n", with: "lun = 1\nchap_user = \"alice\"\nchap_secret = \"lun1\"\n" + targetKeys)
        }
        defer { daemon.stop() }
        _ = try #require(await daemon.notify.waitFor("READY=1", timeout: 60), "no READY=1: \(daemon.stderr)")
        let target = try await ControlClient(socketPath: daemon.socketPath).call("targets.list").arrayValue?.first
        _ = await daemon.terminate()
        return (target?["state"]?.stringValue, target?["reason"]?.stringValue, daemon.stderr)
    }

    @Test func theDaemonOffersWhatTheTargetIsConfiguredWith() async throws {
        let spec = TgtTargetSpec(iqn: Self.iqn, luns: [.file(1, size: 16 << 20)], chap: Self.chap)
        try await withTgt(TgtConfiguration(targets: [spec])) { tgt in
            let md5 = try await targetState(tgt, targetKeys: "chap_algorithms = [\"md5\"]\n")
            #expect(md5.state == "running", "\(md5)")
            let offered = try await targetState(tgt, targetKeys: "")
            #expect(offered.state == "failed", "\(offered)")
            #expect(offered.reason?.contains("authentication") == true, "\(offered)")
            // Not even the debug log of the services (with the config inside) shows the secret.
            for run in [md5, offered] {
                #expect(run.stderr.contains("debug"), "not at debug level")
                #expect(!run.stderr.contains(TestSecrets.daemonTargetInitiator), "the secret is in vdiskd's log")
            }
        }
    }

    @Test func vdiskctlTakesTheAlgorithmsToOffer() async throws {
        let spec = TgtTargetSpec(iqn: Self.iqn, luns: [.file(1, size: 16 << 20)], chap: Self.chap)
        try await withTgt(TgtConfiguration(targets: [spec])) { tgt in
            let url = "iscsi://alice@\(tgt.portal.host):\(tgt.portal.port)/\(Self.iqn)/1"
            let environment = ProcessInfo.processInfo.environment.merging(["VDISK_CHAP_SECRET": TestSecrets.daemonTargetInitiator]) { $1 }
            let inquiry = ["target", "inquiry", url, "--chap-secret-env", "VDISK_CHAP_SECRET"]
            let md5 = try await ProcessRunner.run(vdiskctl, inquiry + ["--chap-algorithms", "md5"], environment: environment)
            #expect(md5.status == 0, "\(md5.stderr)")
            let offered = try await ProcessRunner.run(vdiskctl, inquiry, environment: environment)
            #expect(offered.status != 0 && offered.stderr.contains("authentication"), "\(offered.status): \(offered.stderr)")
            let viaURL = try await ProcessRunner.run(vdiskctl, ["target", "inquiry", url + "?chap_algorithms=md5", "--chap-secret-env", "VDISK_CHAP_SECRET"], environment: environment)
            #expect(viaURL.status == 0, "\(viaURL.stderr)")
            let unknown = try await ProcessRunner.run(vdiskctl, inquiry + ["--chap-algorithms", "md4"], environment: environment)
            #expect(unknown.status == 64 && unknown.stderr.contains("'md4'"), "\(unknown.status): \(unknown.stderr)")
            for output in [md5, offered, viaURL, unknown] {
                #expect(!(output.stdout + output.stderr).contains(TestSecrets.daemonTargetInitiator))
            }
        }
    }
}
