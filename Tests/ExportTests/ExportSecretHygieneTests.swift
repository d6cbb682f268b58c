// Secrets out of command lines, logs and serial numbers: `export serve --raw` over an
// iscsi:// backend whose CHAP secret comes from the environment keeps it out of every
// process's command line, its output and the served LUN's serial number; the serial is the
// same whether or not the URL carries the password. A TargetName with a newline reaches the
// export's log escaped, on one line.

import Export
import Foundation
import ISCSI
import NIOCore
import Synchronization
import TestSupport
import Testing

@Suite(.serialized, .timeLimit(.minutes(3))) struct ExportSecretHygieneTests {
    static let secret = TestSecrets.backend
    static let front = "iqn.2025-01.io.vdiskd:front"

    @Test func aBackendSecretStaysOutOfCommandLinesOutputAndSerialsAndForgedLogLinesAreEscaped() async throws {
        let policy = TargetAccessPolicy(chap: CHAPCredentials(user: "alice", secret: Self.secret))
        try await ExportHarness.with(access: policy) { backend in
            let plain = "iscsi://alice@127.0.0.1:\(backend.portal.port)/\(ExportHarness.iqn)/0"
            let withPassword = "iscsi://alice%\(Self.secret)@127.0.0.1:\(backend.portal.port)/\(ExportHarness.iqn)/0"
            let fromEnvironment = try await Self.serve(plain, environment: ["VDISK_CHAP_SECRET": Self.secret], checkCommandLines: true)
            let fromURL = try await Self.serve(withPassword, environment: [:], checkCommandLines: false)
            #expect(fromEnvironment.uuid == fromURL.uuid, "the LUN's identity does not depend on the password")
            for run in [fromEnvironment, fromURL] {
                #expect(!run.output.contains(Self.secret), "the export's output holds the secret:\n\(run.output)")
                #expect(!run.serial.isEmpty && !run.serial.contains(Self.secret))
            }
            // The forged line is one escaped log line, not a line of its own.
            #expect(fromEnvironment.output.contains("iqn.evil\\nFORGED-LINE"), "\(fromEnvironment.output)")
            #expect(!fromEnvironment.output.split(separator: "\n").contains { $0.hasPrefix("FORGED-LINE") })
        }
    }

    @Test func exportServeRefusesAnOpenSecretFileAndAShortSecret() async throws {
        let directory = try ScratchDirectory(prefix: "export-secret-file")
        defer { directory.remove() }
        let image = try directory.createSparseFile("raw.img", size: 1 << 20)
        let port = try LoopbackPort.reserve()
        func serve(secret: String, mode: Int) async throws -> VDiskCtl.Run {
            let file = directory.file("secret-\(mode)-\(secret.count)")
            try Data((secret + "\n").utf8).write(to: URL(fileURLWithPath: file))
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
            return try await VDiskCtl.run(
                ["export", "serve", "--raw", image, "--listen", "127.0.0.1:\(port)", "--chap-user", "alice", "--chap-secret-file", file],
                in: directory, timeout: .seconds(30)
            )
        }
        let open = try await serve(secret: TestSecrets.openFile, mode: 0o644)
        #expect(!open.status.isSuccess && open.stderr.contains("can be read or written by group or others (mode 644); run chmod 600"), "\(open)")
        let short = try await serve(secret: "abc", mode: 0o600)
        #expect(!short.status.isSuccess && short.stderr.contains("has 3 bytes; use at least 12"), "\(short)")
        #expect(!(open.stdout + open.stderr + short.stdout + short.stderr).contains(TestSecrets.openFile))
    }

    struct Served: Sendable {
        var uuid: String
        var serial: String
        var output: String
    }

    /// Serves `url` as LUN 0 of a front export (verbose), reads its serial number through our
    /// initiator, sends it a login with a newline in TargetName, and returns what it showed.
    static func serve(_ url: String, environment: [String: String], checkCommandLines: Bool) async throws -> Served {
        let directory = try ScratchDirectory(prefix: "export-secret")
        defer { directory.remove() }
        let port = try LoopbackPort.reserve()
        let found = Mutex((uuid: "", serial: ""))
        try await ExportServeProcessTests.serving(
            ["--raw", url, "--listen", "127.0.0.1:\(port)", "--iqn", front, "--verbose"], in: directory, environment: environment
        ) { banner, process in
            let seen = try await inspect(banner: banner, process: process, port: port, checkCommandLines: checkCommandLines)
            found.withLock { $0 = seen }
        }
        let (uuid, serial) = found.withLock { $0 }
        return Served(uuid: uuid, serial: serial, output: VDiskCtl.contents(directory.file("stdout")) + VDiskCtl.contents(directory.file("stderr")))
    }

    /// Reads the banner's LUN UUID and the served LUN's serial number, checks every command
    /// line when asked, and sends the forged TargetName.
    static func inspect(banner: String, process: ChildProcess, port: Int, checkCommandLines: Bool) async throws -> (uuid: String, serial: String) {
        let lun = banner.split(separator: "\n").first { $0.hasPrefix("lun 0 ") }
        let uuid = String(lun?.split(separator: " ").last ?? "")
        #expect(!uuid.isEmpty, "no LUN line in the banner: \(banner)")
        if checkCommandLines {
            // What `ps` would list: every process's command line.
            let listed = try FileManager.default.contentsOfDirectory(atPath: "/proc").filter { $0.allSatisfy(\.isNumber) }.compactMap { pid in
                FileManager.default.contents(atPath: "/proc/\(pid)/cmdline").map { String(decoding: $0, as: UTF8.self) }
            }
            #expect(listed.contains { $0.contains("export") && $0.contains("alice@") }, "the export's command line was found")
            #expect(!listed.contains { $0.contains(secret) }, "a command line holds the secret")
            #expect(listed.contains { $0.contains("export") } && process.isRunning)
        }
        let session = try await ISCSISession.connect(ISCSISessionConfiguration(
            portal: TargetPortal(host: "127.0.0.1", port: port), targetName: front,
            initiatorName: "iqn.2025-01.io.vdiskd:secret-test", loginTimeout: .seconds(10)
        ))
        var inquiry = try await session.execute(SCSITaskRequest(lun: 0, cdb: [0x12, 0x01, 0x80, 0, 0xFF, 0], expectedDataInLength: 255))
        if inquiry.status != 0 {
            inquiry = try await session.execute(SCSITaskRequest(lun: 0, cdb: [0x12, 0x01, 0x80, 0, 0xFF, 0], expectedDataInLength: 255))
        }
        let page = Array(inquiry.data.readableBytesView)
        #expect(inquiry.status == 0 && page.count > 4 && page[1] == 0x80)
        let serial = String(decoding: page.dropFirst(4), as: UTF8.self)
        try await session.logout()
        let refusal = try await OffPool.run { () throws -> UInt8 in
            let client = try RawISCSIClient(port: port)
            return try client.login(target: "iqn.evil\nFORGED-LINE: injected", initiator: "iqn.2025-01.io.vdiskd:forger").statusClass
        }
        #expect(refusal != 0)
        // Let the log line reach the file.
        try await Task.sleep(for: .milliseconds(300))
        return (uuid, serial)
    }
}
