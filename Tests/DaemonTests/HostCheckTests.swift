// `vdiskd --check` run as an ordinary user: a group, user or path in the config that this user
// cannot use is refused with the config's FILE:LINE: KEY: form and what to do about it.

import Daemon
import Foundation
import Testing
import TestSupport

@Suite(.serialized) struct HostCheckTests {
    let user = UnprivilegedUser.standard

    /// A scratch directory the user owns, with the minimal config's socket and state in it and
    /// `daemonLines` added to `[daemon]`.
    private func config(_ daemonLines: String) throws -> (scratch: TemporaryDirectory, path: String) {
        let scratch = TemporaryDirectory("vdiskd-test")
        let text = ConfigFixtures.minimal
            .replacingOccurrences(of: "/run/vdiskd/control.sock", with: "\(scratch.path)/run/control.sock")
            .replacingOccurrences(of: "[daemon]\n", with: "[daemon]\nstate_directory = \"\(scratch.path)/state\"\n\(daemonLines)")
        let path = try scratch.write("vdiskd.toml", text)
        try user.own(scratch.path)
        return (scratch, path)
    }

    /// `vdiskd --config PATH --check` as the user.
    private func check(_ path: String) async throws -> CommandResult {
        try await user.run(try UnprivilegedUser.executable("vdiskd", overriddenBy: "VDISKD"), ["--config", path, "--check"])
    }

    @Test func checkAcceptsWhatTheUserCanUseAndCreatesNothing() async throws {
        let (scratch, path) = try config("")
        let result = try await check(path)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout.contains("valid"))
        // Missing directories the user could create pass the check; only the start makes them.
        #expect(!FileManager.default.fileExists(atPath: "\(scratch.path)/state"))
    }

    @Test func aGroupThatDoesNotExistIsRefused() async throws {
        let (scratch, path) = try config("socket_group = \"vdiskd-no-such-group\"\ncontrol_group = \"vdiskd-no-such-group-either\"\n")
        defer { withExtendedLifetime(scratch) {} }
        let result = try await check(path)
        #expect(result.status == .exited(1))
        #expect(result.stderr.contains("\(path):3: daemon.socket_group: group \"vdiskd-no-such-group\" does not exist on this host"), "\(result.stderr)")
        #expect(result.stderr.contains("\(path):4: daemon.control_group: group \"vdiskd-no-such-group-either\" does not exist on this host"), "\(result.stderr)")
    }

    @Test func aSocketGroupTheDaemonsUserIsNotInIsRefused() async throws {
        // nogroup exists on Debian; the test user's only group is its own.
        let (scratch, path) = try config("socket_group = \"nogroup\"\n")
        defer { withExtendedLifetime(scratch) {} }
        let result = try await check(path)
        #expect(result.status == .exited(1))
        #expect(result.stderr.contains("daemon.socket_group: the daemon's user (uid \(user.uid)) is not in group \"nogroup\", so it cannot give the control socket to it"), "\(result.stderr)")
        // Its primary group being nogroup makes it a member, and the same config passes.
        let member = try await user.withGroup(65534).run(try UnprivilegedUser.executable("vdiskd", overriddenBy: "VDISKD"), ["--config", path, "--check"])
        #expect(member.succeeded, "\(member)")
    }

    @Test func directoriesTheUserCannotWriteOrCreateAreRefused() async throws {
        let (scratch, _) = try config("")
        // Root's own directory, which others may enter but not write.
        let rootOwned = "\(scratch.path)/root-owned"
        try FileManager.default.createDirectory(atPath: rootOwned, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        let text = ConfigFixtures.minimal
            .replacingOccurrences(of: "/run/vdiskd/control.sock", with: "\(rootOwned)/control.sock")
            .replacingOccurrences(of: "[daemon]\n", with: "[daemon]\nstate_directory = \"\(rootOwned)/state\"\n")
        let path = try scratch.write("unwritable.toml", text)
        try user.own(path)
        let result = try await check(path)
        #expect(result.status == .exited(1))
        #expect(result.stderr.contains("\(path):4: daemon.control_socket: the socket's directory \(rootOwned) is not writable by the daemon's user (uid \(user.uid)); it is owned by uid 0 with mode 755"), "\(result.stderr)")
        #expect(result.stderr.contains("\(path):2: daemon.state_directory: \(rootOwned)/state does not exist, and the daemon's user (uid \(user.uid)) cannot create it in \(rootOwned)"), "\(result.stderr)")

        // A state "directory" that is a file.
        let file = try scratch.write("not-a-directory", "")
        let second = try scratch.write("file.toml", ConfigFixtures.minimal
            .replacingOccurrences(of: "/run/vdiskd/control.sock", with: "\(scratch.path)/control.sock")
            .replacingOccurrences(of: "[daemon]\n", with: "[daemon]\nstate_directory = \"\(file)\"\n"))
        try user.own(scratch.path)
        let refused = try await check(second)
        #expect(refused.stderr.contains("\(second):2: daemon.state_directory: \(file) is not a directory"), "\(refused.stderr)")
    }

    @Test func aSecretsFileBehindADirectoryTheUserCannotEnterIsRefused() async throws {
        let (scratch, _) = try config("")
        let hidden = "\(scratch.path)/hidden"
        try FileManager.default.createDirectory(atPath: hidden, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        let secrets = try scratch.write("hidden/secrets.toml", "lun1 = \"\(TestSecrets.daemonLUN)\"\n", mode: 0o600)
        let path = try scratch.write("secrets.toml", ConfigFixtures.minimal
            .replacingOccurrences(of: "/run/vdiskd/control.sock", with: "\(scratch.path)/control.sock")
            .replacingOccurrences(of: "[daemon]\n", with: "[daemon]\nstate_directory = \"\(scratch.path)/state\"\nsecrets_file = \"\(secrets)\"\n"))
        try user.own(path)
        let result = try await check(path)
        #expect(result.status == .exited(1))
        #expect(result.stderr.contains("\(path):3: daemon.secrets_file: uid \(user.uid) cannot reach \(secrets)"), "\(result.stderr)")
    }
}
