// COMPARE AND WRITE across a failover, on istgt (which has it): path A goes through a TCP relay
// that the test freezes (a silent path), path B straight to the portal. The command stuck on A
// is settled on B before it runs again: sent again when the block still holds what it
// expected, a miscompare when another initiator wrote the block meanwhile.

import BlockDevice
import Foundation
import ISCSI
import ISCSIAddress
import NIOCore
import Paths
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite(.timeLimit(.minutes(3)))
struct MultipathCompareAndWriteTests {
    static let iqn = "iqn.2026-12.org.vdiskd.test:multipath-caw"

    /// Scripts/tcp_relay.py from `listen` to `to`, started and ready.
    static func relay(to portal: Portal, in scratch: TemporaryDirectory) async throws -> (ChildProcess, Int) {
        let port = try LoopbackPort.reserve()
        // This file is Tests/IntegrationTests/Paths/…: four levels below the package.
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let log = "\(scratch.path)/relay.log"
        let relay = try await ChildProcess.spawn(
            executable: "/usr/bin/python3",
            arguments: [package.appendingPathComponent("Scripts/tcp_relay.py").path, "--listen", "127.0.0.1:\(port)", "--to", "\(portal.host):\(portal.port)"],
            stdoutPath: log
        )
        let ready = await BoundedWait.until(timeout: .seconds(10), interval: .milliseconds(50)) {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("listening")
        }
        try #require(ready, "the relay did not start: \(relay.outputTail())")
        return (relay, port)
    }

    static func device(through relayPort: Int, _ istgt: IstgtTarget) async throws -> MultipathDevice {
        let direct = try ISCSITargetURL(parsing: "iscsi://\(istgt.portal.host):\(istgt.portal.port)/\(iqn)/0")
        let relayed = try ISCSITargetURL(parsing: "iscsi://127.0.0.1:\(relayPort)/\(iqn)/0")
        var options = MultipathOptions()
        options.policy = .fixed(preferred: "relayed")
        options.probeInterval = .seconds(1)
        return try await MultipathDevice.open(
            name: "caw",
            paths: [
                try NativePath.configuration("relayed", relayed, keepalive: .seconds(1), loginTimeout: .seconds(5)),
                try NativePath.configuration("direct", direct, keepalive: .seconds(1), loginTimeout: .seconds(5)),
            ],
            options: options
        )
    }

    static func block(_ byte: UInt8) -> ByteBuffer { ByteBuffer(repeating: byte, count: 512) }

    /// SIGSTOP, then waits until every thread of the relay is stopped: a pump thread still
    /// running on the other core could otherwise forward the next command.
    static func freeze(_ relay: ChildProcess) async throws {
        relay.send(signal: SIGSTOP)
        let stopped = await BoundedWait.until(timeout: .seconds(5), interval: .milliseconds(10)) {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(relay.pid)/task")) ?? []
            return !tasks.isEmpty && tasks.allSatisfy { task in
                let stat = (try? String(contentsOfFile: "/proc/\(relay.pid)/task/\(task)/stat", encoding: .utf8)) ?? ""
                return stat.split(separator: ")").last?.split(separator: " ").first == "T"
            }
        }
        try #require(stopped, "the relay did not stop")
    }

    /// istgt, the relay in front of it, and the two-path device; the relay is killed at the end,
    /// never resumed: it may still hold the stuck command's bytes.
    static func withRelayedDevice(_ body: (IstgtTarget, ChildProcess, MultipathDevice) async throws -> Void) async throws {
        let configuration = IstgtConfiguration(targets: [IstgtTargetSpec(iqn: Self.iqn, luns: [.file(0, size: 16 << 20)])])
        try await withIstgt(configuration) { istgt in
            let scratch = TemporaryDirectory("vdiskd-caw")
            let (relay, port) = try await Self.relay(to: istgt.portal, in: scratch)
            defer { relay.send(signal: SIGKILL) }
            let device = try await Self.device(through: port, istgt)
            defer { Task { try? await device.close() } }
            try await body(istgt, relay, device)
        }
    }

    @Test func aCompareAndWriteStuckOnADeadPathIsSettledAndSentAgainOnTheOther() async throws {
        try await Self.withRelayedDevice { _, relay, device in
            #expect(device.capabilities.contains(.compareAndWrite), "istgt runs COMPARE AND WRITE")
            try await device.write(Self.block(1), at: 10)
            try await device.write(Self.block(1), at: 11)

            // Untouched meanwhile: the block still holds what the command expects, so it runs again.
            try await Self.freeze(relay)
            let started = ContinuousClock.now
            try await device.compareAndWrite(at: 10, expected: Self.block(1), replacement: Self.block(2))
            #expect(ContinuousClock.now - started < .seconds(4), "settled within the keepalive")
            #expect(try await device.read(at: 10, blockCount: 1) == Self.block(2))
            #expect(device.snapshot.paths.first { $0.name == "relayed" }?.state == .dead)
            #expect(device.snapshot.paths.first { $0.name == "direct" }?.counters.writes ?? 0 >= 1)
        }
    }

    @Test func aCompareAndWriteWhoseBlockWasWrittenMeanwhileIsAMiscompareAfterTheFailover() async throws {
        try await Self.withRelayedDevice { istgt, relay, device in
            try await device.write(Self.block(1), at: 20)

            // Another initiator writes the block while the command is stuck on the silent path.
            let other = try await ISCSILUN.connect(try ISCSITargetURL(parsing: "iscsi://\(istgt.portal.host):\(istgt.portal.port)/\(Self.iqn)/0"))
            try await Self.freeze(relay)
            let stuck = Task { try await device.compareAndWrite(at: 20, expected: Self.block(1), replacement: Self.block(2)) }
            try await Task.sleep(for: .milliseconds(300))
            try await other.write(Self.block(3), at: 20)
            try await other.close()
            var code: BlockDeviceError.Code?
            do { try await stuck.value } catch let error as BlockDeviceError { code = error.code }
            #expect(code == .miscompare, "the retry saw neither what it expected nor its own data")
            #expect(try await device.read(at: 20, blockCount: 1) == Self.block(3), "the other initiator's write stands")
        }
    }
}
