// sd_notify against a NOTIFY_SOCKET the test owns, and the watchdog's stall detection.

import Daemon
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import Testing
import TestSupport

@Suite struct SystemdNotifierTests {
    @Test func sendsToAPathSocket() async throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        let receiver = try NotifyReceiver(path: "\(scratch.path)/notify")
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.path])
        #expect(notifier.notify("READY=1\nSTATUS=up"))
        #expect(await receiver.receive(timeout: 5) == "READY=1\nSTATUS=up")
    }

    @Test func withoutNotifySocketNothingIsSent() {
        #expect(SystemdNotifier(environment: [:]).notify("READY=1") == false)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": ""]).notify("READY=1") == false)
    }

    @Test func watchdogIntervalIsHalfOfWatchdogUsec() {
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "20000000"]) == .seconds(10))
        #expect(SystemdNotifier.watchdogInterval(environment: [:]) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "1"], pid: 2) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "2"], pid: 2) == .seconds(10))
    }

    @Test func watchdogStopsPingingWhileTheEventLoopIsStalled() async throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        let receiver = try NotifyReceiver(path: "\(scratch.path)/notify")
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.path])
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = loops.next()
        // A deadline well under the 3 s stall, but loose enough that a loaded machine
        // (the whole suite runs in parallel on two cores) does not read as a stall.
        let probe = EventLoopLivenessProbe(loop: loop, deadline: .milliseconds(500))
        let watchdog = WatchdogService(interval: .milliseconds(100), notifier: notifier, logger: Logger(label: "test"), probe: probe.check)
        let group = ServiceGroup(configuration: .init(services: [watchdog], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // Healthy: pings arrive. The watchdog runs on the Swift task pool, which the whole
            // suite shares on two cores, so the first ping may wait for a free pool thread;
            // the bound is generous, and what is checked is that it comes.
            #expect(await receiver.receive(timeout: 60) == "WATCHDOG=1")
            // The injected stall: a task that blocks the loop's only thread for 6 s.
            let stalled = ContinuousClock.now
            loop.execute { Thread.sleep(forTimeInterval: 6) }
            // Drain pings sent before the stall (at most a few), then expect silence while it
            // lasts. The drain may take up to 2 s on a loaded machine; the stall outlasts it and
            // the silent second after it (a 3 s stall once ended inside that second).
            for _ in 0..<10 {
                guard await receiver.receive(timeout: 0.2) != nil else { break }
            }
            #expect(ContinuousClock.now - stalled < .seconds(4), "the drain took the whole stall")
            #expect(await receiver.receive(timeout: 1.0) == nil)
            // After the stall, pings resume.
            #expect(await receiver.receive(timeout: 60) == "WATCHDOG=1")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        try await loops.shutdownGracefully()
    }
}
