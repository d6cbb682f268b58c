// The `[[export]]` keys of the export as a network service (ACL, mutual CHAP, discovery,
// limits) and mutual CHAP for `[[target]]`: parsed, defaulted, and refused when wrong.

import Daemon
import Foundation
import ISCSI
import Testing
import TestSupport

@Suite struct ExportSecurityConfigTests {
    /// `minimal` with `exportKeys` added to its export, `targetKeys` to its target, and a
    /// secrets file holding `secrets`.
    private func config(exportKeys: String = "", targetKeys: String = "", secrets: String? = nil, in scratch: TemporaryDirectory) throws -> String {
        var text = ConfigFixtures.minimal
            .replacingOccurrences(of: "disks = [\"ds1/vm1\"]", with: "disks = [\"ds1/vm1\"]\n" + exportKeys)
            .replacingOccurrences(of: "lun = 1\n", with: "lun = 1\n" + targetKeys)
        if let secrets {
            let path = try scratch.write("secrets.toml", secrets, mode: 0o600)
            text = text.replacingOccurrences(of: "[daemon]\n", with: "[daemon]\nsecrets_file = \"\(path)\"\n")
        }
        return text
    }

    @Test func theExportKeysAreReadAndDefaulted() throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        let plain = try ConfigFixtures.parse(ConfigFixtures.minimal).exports[0]
        #expect(plain.allowedInitiators.isEmpty && plain.discovery == .automatic && plain.maxDiscoverySessions == 16)
        #expect(plain.loginTimeoutSeconds == 15 && plain.dataPhaseTimeoutSeconds == 20 && plain.writeBudgetBytes == 512 << 20)
        #expect(plain.maxPendingLogins == 64 && plain.maxPendingLoginsPerSource == 16 && plain.maxSessionsPerInitiator == 32 && plain.descriptorReserve == 64)
        let text = try config(exportKeys: """
            chap_user = "client"
            chap_secret = "client"
            mutual_chap_user = "export"
            mutual_chap_secret = "export"
            allowed_initiators = ["iqn.2026-11.example:host1"]
            discovery = "open"
            max_sessions = 64
            max_discovery_sessions = 4
            login_timeout_seconds = 10
            discovery_idle_timeout_seconds = 60
            write_budget_bytes = 268435456
            connection_write_budget_bytes = 67108864
            data_phase_timeout_seconds = 5
            max_failed_logins = 3
            max_pending_logins = 8
            max_pending_logins_per_source = 2
            max_sessions_per_initiator = 4
            descriptor_reserve = 0
            """, secrets: "client = \"\(TestSecrets.daemonClient)\"\nexport = \"\(TestSecrets.daemonExportMutual)\"\n", in: scratch)
        let export = try ConfigFixtures.parse(text).exports[0]
        #expect(export.mutualChapUser == "export" && export.mutualChapSecret == "export")
        #expect(export.allowedInitiators == ["iqn.2026-11.example:host1"] && export.discovery == .open)
        #expect(export.maxSessions == 64 && export.maxDiscoverySessions == 4 && export.loginTimeoutSeconds == 10)
        #expect(export.discoveryIdleTimeoutSeconds == 60 && export.writeBudgetBytes == 256 << 20 && export.connectionWriteBudgetBytes == 64 << 20)
        #expect(export.dataPhaseTimeoutSeconds == 5 && export.maxFailedLogins == 3)
        #expect(export.maxPendingLogins == 8 && export.maxPendingLoginsPerSource == 2 && export.maxSessionsPerInitiator == 4 && export.descriptorReserve == 0)
    }

    @Test func targetsTakeMutualCHAP() throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        let text = try config(targetKeys: """
            chap_user = "alice"
            chap_secret = "alice"
            mutual_chap_user = "tgt"
            mutual_chap_secret = "tgt"
            """, secrets: "alice = \"\(TestSecrets.daemonTargetInitiator)\"\ntgt = \"\(TestSecrets.daemonTargetMutual)\"\n", in: scratch)
        let target = try ConfigFixtures.parse(text).targets[0]
        #expect(target.mutualChapUser == "tgt" && target.mutualChapSecret == "tgt")
        #expect(target.chapAlgorithms == nil, "no chap_algorithms: the default offer")
    }

    /// `chap_algorithms` is the CHAP_A offer for one target (tgt needs ["md5"]).
    @Test func targetsTakeTheirCHAPAlgorithms() throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        let secrets = "alice = \"\(TestSecrets.daemonTargetInitiator)\"\n"
        func parsed(_ list: String) throws -> DaemonConfig {
            try ConfigFixtures.parse(try config(targetKeys: "chap_user = \"alice\"\nchap_secret = \"alice\"\nchap_algorithms = \(list)\n", secrets: secrets, in: scratch))
        }
        #expect(try parsed("[\"md5\"]").targets[0].chapAlgorithms == [.md5])
        #expect(try parsed("[\"sha256\", \"md5\"]").targets[0].chapAlgorithms == [.sha256, .md5])
        func errors(_ keys: String) throws -> [ConfigError] {
            ConfigFixtures.errors(try config(targetKeys: keys, secrets: secrets, in: scratch))
        }
        let unknown = try errors("chap_user = \"alice\"\nchap_secret = \"alice\"\nchap_algorithms = [\"md4\"]\n")
        #expect(unknown.map(\.key) == ["target[1].chap_algorithms"])
        #expect(unknown.first?.message.contains("'md4'") == true, "\(unknown)")
        #expect(try errors("chap_user = \"alice\"\nchap_secret = \"alice\"\nchap_algorithms = []\n").map(\.key) == ["target[1].chap_algorithms"])
        #expect(try errors("chap_algorithms = [\"md5\"]\n").map(\.key) == ["target[1].chap_algorithms"])
    }

    @Test func wrongKeysAreRefusedAtTheirKey() throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        let secrets = "client = \"\(TestSecrets.daemonClient)\"\nsame = \"\(TestSecrets.daemonClient)\"\nshort = \"tiny\"\n"
        func keys(_ exportKeys: String) throws -> [String] {
            ConfigFixtures.errors(try config(exportKeys: exportKeys, secrets: secrets, in: scratch)).map(\.key)
        }
        #expect(try keys("mutual_chap_user = \"export\"\nmutual_chap_secret = \"client\"") == ["export[1].mutual_chap_user"])
        #expect(try keys("chap_user = \"c\"\nchap_secret = \"client\"\nmutual_chap_user = \"e\"\nmutual_chap_secret = \"client\"") == ["export[1].mutual_chap_secret"])
        #expect(try keys("chap_user = \"c\"\nchap_secret = \"client\"\nmutual_chap_user = \"e\"\nmutual_chap_secret = \"same\"") == ["export[1].mutual_chap_secret"])
        #expect(try keys("chap_user = \"c\"\nchap_secret = \"short\"") == ["export[1].chap_secret"])
        #expect(try keys("allowed_initiators = [\"host1\"]") == ["export[1].allowed_initiators"])
        #expect(try keys("discovery = \"sometimes\"") == ["export[1].discovery"])
        #expect(try keys("max_discovery_sessions = 0") == ["export[1].max_discovery_sessions"])
        #expect(try keys("write_budget_bytes = 1024") == ["export[1].write_budget_bytes"])
        #expect(try keys("max_pending_logins = 0") == ["export[1].max_pending_logins"])
        #expect(try keys("max_sessions_per_initiator = 0") == ["export[1].max_sessions_per_initiator"])
        #expect(try keys("descriptor_reserve = -1") == ["export[1].descriptor_reserve"])
        let messages = ConfigFixtures.errors(try config(exportKeys: "chap_user = \"c\"\nchap_secret = \"short\"", secrets: secrets, in: scratch)).map(\.message)
        #expect(messages.allSatisfy { !$0.contains("tiny") }, "the secret stays out of the message: \(messages)")
    }
}
