// A real tgtd or istgt started on a free loopback port for one test and always
// stopped afterwards. Stands in until the shared TestSupport harness lands.

import Foundation

/// One running target process with one IQN: LUN files in a scratch directory.
///
/// tgt: LUN 1 is a file (thin provisioning on), LUN 2 a null backing store.
/// istgt: LUN 0 is a file. CHAP accounts are set at start.
final class ScratchTarget: @unchecked Sendable {
    // @unchecked: the mutable `process` is set in start() before the instance is shared.

    enum Kind: String, Sendable, CaseIterable, CustomStringConvertible {
        case tgt, istgt
        var description: String { rawValue }
    }

    struct CHAPAccount: Sendable {
        var user: String
        var secret: String
        /// Mutual CHAP: the name and secret the target answers with.
        var targetUser: String?
        var targetSecret: String?
    }

    let kind: Kind
    let port: Int
    let targetName: String
    let directory: URL
    let controlPort: Int
    private var process: Process?

    /// The LUN backed by a file (read/write tests).
    var fileLUN: Int { kind == .tgt ? 1 : 0 }
    /// A LUN that stores nothing (tgt only): fast I/O for leak and load runs.
    var nullLUN: Int? { kind == .tgt ? 2 : nil }

    private init(kind: Kind, port: Int, targetName: String, directory: URL, controlPort: Int) {
        self.kind = kind
        self.port = port
        self.targetName = targetName
        self.directory = directory
        self.controlPort = controlPort
    }

    /// Starts a target, runs `body`, and stops the target however `body` ends.
    static func with<T>(
        _ kind: Kind,
        lunSize: Int = 64 << 20,
        chap: CHAPAccount? = nil,
        _ body: (ScratchTarget) async throws -> T
    ) async throws -> T {
        let target = try start(kind, lunSize: lunSize, chap: chap)
        do {
            let value = try await body(target)
            target.stop()
            return value
        } catch {
            target.stop()
            throw error
        }
    }

    func url(lun: Int? = nil, user: String? = nil, password: String? = nil, query: String = "") -> String {
        let credentials = user.map { user in password.map { "\(user)%\($0)@" } ?? "\(user)@" } ?? ""
        return "iscsi://\(credentials)127.0.0.1:\(port)/\(targetName)/\(lun ?? fileLUN)\(query)"
    }

    /// Kills the target at once (SIGKILL): the engine sees the connection die.
    func kill() {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    // MARK: Start and stop

    private static func start(_ kind: Kind, lunSize: Int, chap: CHAPAccount?) throws -> ScratchTarget {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vdisk-libiscsi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let port = try freeLoopbackPort()
        let target = ScratchTarget(
            kind: kind,
            port: port,
            targetName: kind == .tgt ? "iqn.2026-11.test.vdisk:libiscsi" : "iqn.2026-11.test.istgt:disk1",
            directory: directory,
            controlPort: Int.random(in: 1000...32000)  // tgtd accepts -C up to 32767
        )
        do {
            switch kind {
            case .tgt: try target.startTgt(lunSize: lunSize, chap: chap)
            case .istgt: try target.startIstgt(lunSize: lunSize, chap: chap)
            }
        } catch {
            target.stop()
            throw error
        }
        return target
    }

    private func makeLUNFile(_ name: String, size: Int) throws -> String {
        let path = directory.appendingPathComponent(name).path
        guard FileManager.default.createFile(atPath: path, contents: nil) else { throw TargetError("cannot create \(path)") }
        guard truncate(path, off_t(size)) == 0 else { throw TargetError("cannot size \(path)") }
        return path
    }

    private func startTgt(lunSize: Int, chap: CHAPAccount?) throws {
        let lunPath = try makeLUNFile("lun1.img", size: lunSize)
        process = try Self.launch("/usr/sbin/tgtd", ["-f", "-C", "\(controlPort)", "--iscsi", "portal=127.0.0.1:\(port)"], log: directory.appendingPathComponent("tgtd.log"))
        // tgtd answers on its control socket once it is up; bounded wait of 5 s.
        var ready = false
        for _ in 0..<50 {
            if (try? tgtadm(["--op", "show", "--mode", "system"])) != nil { ready = true; break }
            usleep(100_000)
        }
        guard ready else { throw TargetError("tgtd on port \(port) did not start") }
        try tgtadm(["--lld", "iscsi", "--op", "new", "--mode", "target", "--tid", "1", "-T", targetName])
        try tgtadm(["--lld", "iscsi", "--op", "new", "--mode", "logicalunit", "--tid", "1", "--lun", "1", "-b", lunPath])
        try tgtadm(["--lld", "iscsi", "--op", "update", "--mode", "logicalunit", "--tid", "1", "--lun", "1", "--params", "thin_provisioning=1"])
        try tgtadm(["--lld", "iscsi", "--op", "new", "--mode", "logicalunit", "--tid", "1", "--lun", "2", "--bstype", "null", "-b", "/dev/null"])
        try tgtadm(["--lld", "iscsi", "--op", "bind", "--mode", "target", "--tid", "1", "-I", "ALL"])
        if let chap {
            try tgtadm(["--lld", "iscsi", "--op", "new", "--mode", "account", "--user", chap.user, "--password", chap.secret])
            try tgtadm(["--lld", "iscsi", "--op", "bind", "--mode", "account", "--tid", "1", "--user", chap.user])
            if let user = chap.targetUser, let secret = chap.targetSecret {
                try tgtadm(["--lld", "iscsi", "--op", "new", "--mode", "account", "--user", user, "--password", secret])
                try tgtadm(["--lld", "iscsi", "--op", "bind", "--mode", "account", "--tid", "1", "--user", user, "--outgoing"])
            }
        }
    }

    private func startIstgt(lunSize: Int, chap: CHAPAccount?) throws {
        let lunPath = try makeLUNFile("lun0.img", size: lunSize)
        let authMethod = chap == nil ? "None" : (chap?.targetUser == nil ? "CHAP" : "CHAP Mutual")
        var authLines = ""
        if let chap {
            let mutual = chap.targetUser.map { " \"\($0)\" \"\(chap.targetSecret ?? "")\"" } ?? ""
            authLines = "  Auth \"\(chap.user)\" \"\(chap.secret)\"\(mutual)\n"
        }
        let auth = "[AuthGroup1]\n  Comment \"test users\"\n\(authLines.isEmpty ? "  Auth \"nobody\" \"nobodysecret1\"\n" : authLines)"
        try auth.write(to: directory.appendingPathComponent("auth.conf"), atomically: true, encoding: .utf8)
        let unitControlPort = try Self.freeLoopbackPort()
        let config = """
        [Global]
          NodeBase "iqn.2026-11.test.istgt"
          PidFile \(directory.path)/istgt.pid
          AuthFile \(directory.path)/auth.conf
          MediaDirectory \(directory.path)
          LogFacility "local7"
          Timeout 30
          NopInInterval 20
          DiscoveryAuthMethod Auto
          MaxSessions 16
          MaxConnections 4
          MaxR2T 32
          MaxOutstandingR2T 16
          DefaultTime2Wait 2
          DefaultTime2Retain 60
          FirstBurstLength 262144
          MaxBurstLength 1048576
          MaxRecvDataSegmentLength 262144
          InitialR2T Yes
          ImmediateData Yes
          DataPDUInOrder Yes
          DataSequenceInOrder Yes
          ErrorRecoveryLevel 0
        [UnitControl]
          AuthMethod CHAP Mutual
          AuthGroup AuthGroup10000
          Portal UC1 127.0.0.1:\(unitControlPort)
          Netmask 127.0.0.1
        [PortalGroup1]
          Portal DA1 127.0.0.1:\(port)
        [InitiatorGroup1]
          InitiatorName "ALL"
          Netmask 127.0.0.0/8
        [LogicalUnit1]
          TargetName disk1
          Mapping PortalGroup1 InitiatorGroup1
          AuthMethod \(authMethod)
          AuthGroup AuthGroup1
          UseDigest Auto
          UnitType Disk
          LUN0 Storage \(lunPath) Auto

        """
        let configPath = directory.appendingPathComponent("istgt.conf")
        try config.write(to: configPath, atomically: true, encoding: .utf8)
        process = try Self.launch("/usr/sbin/istgt", ["-c", configPath.path, "-D"], log: directory.appendingPathComponent("istgt.log"))
        // istgt listens once its configuration is loaded; bounded wait of 5 s.
        for _ in 0..<50 {
            if Self.canConnect(port: port) { return }
            usleep(100_000)
        }
        throw TargetError("istgt on port \(port) did not start")
    }

    func stop() {
        if let process, process.isRunning {
            if kind == .tgt {
                _ = try? tgtadm(["--lld", "iscsi", "--op", "delete", "--mode", "target", "--tid", "1", "--force"])
                _ = try? tgtadm(["--op", "delete", "--mode", "system"])
            }
            // tgtd ignores SIGTERM and istgt takes seconds after it: SIGKILL is the sure end.
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: Helpers

    @discardableResult
    private func tgtadm(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/tgtadm")
        process.arguments = ["-C", "\(controlPort)"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw TargetError("tgtadm \(arguments.joined(separator: " ")) failed: \(text)")
        }
        return text
    }

    private static func launch(_ path: String, _ arguments: [String], log: URL) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// A port nothing listens on now: bind to port 0 on loopback and read what the kernel chose.
    static func freeLoopbackPort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TargetError("socket() failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw TargetError("bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        // Never the well-known iSCSI port, which a system target may own.
        return port == 3260 ? try freeLoopbackPort() : port
    }

    static func canConnect(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
