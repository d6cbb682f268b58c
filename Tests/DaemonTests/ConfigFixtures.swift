// Small configs the tests build on: one valid file and helpers to parse variations of it.

import Daemon
import Foundation

enum ConfigFixtures {
    /// A config with one of everything and no CHAP, so no secrets file is needed.
    static let minimal = """
        [daemon]
        log_level = "info"
        control_socket = "/run/vdiskd/control.sock"

        [[target]]
        name = "lun1"
        portal = "127.0.0.1:3260"
        iqn = "iqn.2026-11.example:lun1"
        lun = 1

        [[datastore]]
        name = "ds1"
        target = "lun1"
        host_uuid = "4f0c2a3e-9b8d-4c61-a0e7-2d5b8f1c9e40"

        [[disk]]
        datastore = "ds1"
        name = "vm1"

        [[export]]
        name = "vm1"
        iqn = "iqn.2026-11.example.vdiskd:vm1"
        listen = ["127.0.0.1:3261"]
        disks = ["ds1/vm1"]
        """

    /// Parses `text` as `/etc/vdiskd/test.toml`, with secrets read from the real file system.
    static func parse(_ text: String) throws(ConfigInvalid) -> DaemonConfig {
        try ConfigLoader.parse(text: text, path: "/etc/vdiskd/test.toml", loadSecrets: SecretsFile.load(path:))
    }

    /// The errors `text` is refused with; empty when it is accepted.
    static func errors(_ text: String) -> [ConfigError] {
        do {
            _ = try parse(text)
            return []
        } catch {
            return error.errors
        }
    }

    /// The repository root, found from this file's path.
    static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }
}
