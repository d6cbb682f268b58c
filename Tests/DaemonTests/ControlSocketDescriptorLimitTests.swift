// The daemon out of file descriptors on its control socket: vdiskd, its limit lowered with
// prlimit to a few descriptors above what it holds, is flooded with idle control
// connections. Its CPU stays low (the listening socket leaves epoll instead of spinning on
// EMFILE), it says so once in its log, and once the flood is gone vdiskctl gets an answer.

import Control
import Daemon
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(2))) struct ControlSocketDescriptorLimitTests {
    @Test func aFloodOfIdleControlConnectionsNeitherSpinsNorLocksOut() async throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        // No target listens on port 1: the daemon runs with just its control socket and export.
        let daemon = try DaemonProcess.start(in: scratch, tgt: "127.0.0.1:1", lunIQN: "iqn.2026-11.example:none", exportPort: try LoopbackPort.reserve())
        defer { daemon.stop() }
        _ = try #require(await daemon.notify.waitFor("READY=1", timeout: 30), "no READY=1: \(daemon.stderr)")

        // Eight descriptors above what it holds now; the flood takes them and then some.
        let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(daemon.pid)/fd").count
        let limit = try await ProcessRunner.run("/usr/bin/prlimit", ["--pid", "\(daemon.pid)", "--nofile=\(open + 8):\(open + 8)"])
        #expect(limit.status == 0, "\(limit.stderr)")
        // Bounded: 40 connections, fewer than the listener's backlog of 64 plus what it accepts.
        // They close at the end of this block.
        do {
            let flood = try await OffPool.run { try (0..<40).map { _ in try LineSocketClient(path: daemon.socketPath) } }
            try await Task.sleep(for: .seconds(1))
            let (cpu, window) = try await ProcessCPUTime.during(.seconds(3), of: daemon.pid)
            // Spinning on EMFILE is the whole window; paused, a retry a second.
            print("vdiskd CPU at its descriptor limit: \(cpu) in \(window), \(flood.count) connections")
            #expect(cpu < window * 0.25, "vdiskd used \(cpu) of CPU in \(window) at its descriptor limit")
            #expect(daemon.stderr.contains("accept failed, pausing new connections"), "\(daemon.stderr)")
        }

        // The flood's connections are closed: within ten tries a second apart vdiskctl is answered.
        var answered = false
        for _ in 0..<10 where !answered {
            answered = (try? await ControlClient(socketPath: daemon.socketPath).call("status")) != nil
            if !answered { try await Task.sleep(for: .seconds(1)) }
        }
        #expect(answered, "no control answer after the flood ended: \(daemon.stderr)")
        #expect(await daemon.terminate() == 0)
    }
}
