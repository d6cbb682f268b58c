// The CHAP secrets file: refused when missing, unreadable, open to group or others or
// owned by another user; a secret it holds is refused when shorter than 12 bytes.

import Daemon
import Foundation
import Testing
import TestSupport

@Suite struct SecretsFileTests {
    private func config(secrets path: String) -> String {
        ConfigFixtures.minimal
            .replacingOccurrences(of: "[daemon]\n", with: "[daemon]\nsecrets_file = \"\(path)\"\n")
            .replacingOccurrences(of: "lun = 1", with: "lun = 1\nchap_user = \"alice\"\nchap_secret = \"lun1\"")
    }

    @Test func privateSecretsFileIsAccepted() throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        let path = try scratch.write("secrets.toml", "lun1 = \"\(TestSecrets.daemonLUN)\"\n", mode: 0o600)
        let loaded = try ConfigFixtures.parse(config(secrets: path))
        #expect(loaded.secrets == ["lun1": TestSecrets.daemonLUN])
        #expect(loaded.targets.first?.chapUser == "alice")
    }

    @Test func groupReadableSecretsFileIsRefused() throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        let path = try scratch.write("secrets.toml", "lun1 = \"\(TestSecrets.daemonLUN)\"\n", mode: 0o640)
        let errors = ConfigFixtures.errors(config(secrets: path))
        #expect(errors.count == 1)
        #expect(errors.first?.file == path)
        #expect(errors.first?.message == "the secrets file can be read or written by group or others (mode 640); run chmod 600 \(path)")
    }

    @Test func worldReadableSecretsFileIsRefused() throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        let path = try scratch.write("secrets.toml", "lun1 = \"\(TestSecrets.daemonLUN)\"\n", mode: 0o604)
        let errors = ConfigFixtures.errors(config(secrets: path))
        #expect(errors.first?.message.contains("chmod 600") == true)
    }

    @Test func missingSecretsFileIsRefused() throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        let path = "\(scratch.path)/absent.toml"
        let errors = ConfigFixtures.errors(config(secrets: path))
        #expect(errors.count == 1)
        #expect(errors.first?.file == path)
        #expect(errors.first?.message.hasPrefix("cannot read the secrets file (No such file or directory)") == true)
    }

    @Test func secretsPathThatIsNotAFileIsRefused() throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        let errors = ConfigFixtures.errors(config(secrets: scratch.path))
        #expect(errors.first?.message == "the secrets file is not a regular file")
    }

    @Test func secretsFileThatIsNotTextIsRefused() throws {
        // A secrets file the daemon truly cannot read is tested in VDiskdCommandTests, as an
        // unprivileged user: root reads any file whatever its mode.
        let scratch = TemporaryDirectory("vdiskd-test")
        let path = "\(scratch.path)/secrets.toml"
        try Data([0xff, 0xfe, 0x00, 0x80]).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        let errors = ConfigFixtures.errors(config(secrets: path))
        #expect(errors.first?.file == path)
        #expect(errors.first?.message.hasPrefix("cannot read the secrets file") == true)
    }

    @Test func missingSecretNameIsRefusedAtTheReference() throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        let path = try scratch.write("secrets.toml", "other = \"\(TestSecrets.daemonLUN)\"\n", mode: 0o600)
        let errors = ConfigFixtures.errors(config(secrets: path))
        #expect(errors.map(\.key) == ["target[1].chap_secret"])
        #expect(errors.first?.line == 12)
        #expect(errors.first?.message == "no secret named \"lun1\" in \(path)")
    }

    @Test func aSecretsFileOfAnotherUserIsRefused() throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        let path = try scratch.write("secrets.toml", "lun1 = \"\(TestSecrets.daemonLUN)\"\n", mode: 0o600)
        // Owned by "nobody" (65534), read by whoever runs the tests.
        let other: UInt32 = geteuid() == 65534 ? 65533 : 65534
        guard chown(path, other, getegid()) == 0 else {
            // Only root may give a file away; an unprivileged run checks the rule the other way round.
            #expect(geteuid() != 0, "chown failed as root: errno \(errno)")
            return
        }
        let errors = ConfigFixtures.errors(config(secrets: path))
        #expect(errors.first?.message == "the secrets file belongs to user id \(other), not to the user reading it (\(geteuid())); chown it to that user")
    }

    @Test func aSecretShorterThanTwelveBytesIsRefusedAtTheReference() throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        let path = try scratch.write("secrets.toml", "lun1 = \"\(TestSecrets.elevenBytes)\"\n", mode: 0o600)
        let errors = ConfigFixtures.errors(config(secrets: path))
        #expect(errors.map(\.key) == ["target[1].chap_secret"])
        #expect(errors.first?.message == "the secret \"lun1\" in \(path) has 11 bytes; CHAP secrets need at least 12")
        #expect(errors.first?.message.contains(TestSecrets.elevenBytes) == false)
    }

    @Test func chapWithoutSecretsFileIsRefused() {
        let text = ConfigFixtures.minimal.replacingOccurrences(of: "lun = 1", with: "lun = 1\nchap_user = \"alice\"\nchap_secret = \"lun1\"")
        #expect(ConfigFixtures.errors(text).map(\.key) == ["daemon.secrets_file"])
    }
}
