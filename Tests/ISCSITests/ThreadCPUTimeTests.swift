// The busy-loop checks rely on ThreadCPUTime seeing a spinning thread and not an idle one; prove both.

import NIOPosix
import TestSupport
import Testing

@Suite struct ThreadCPUTimeTests {
    @Test func seesASpinningLoopAndNotAnIdleOne() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        do {
            let idleStart = try await loop.submit { ThreadCPUTime.current() }.get()
            try await Task.sleep(for: .milliseconds(200))
            let idle = try await loop.submit { ThreadCPUTime.current() }.get() - idleStart
            #expect(idle < .milliseconds(20), "an idle event loop used \(idle)")

            // Spin until 30 ms of CPU are used, or give up after 5 s of wall time on a starved machine.
            let spun = try await loop.submit { () -> Duration in
                let start = ThreadCPUTime.current()
                let clock = ContinuousClock()
                let deadline = clock.now + .seconds(5)
                while ThreadCPUTime.current() - start < .milliseconds(30), clock.now < deadline {}
                return ThreadCPUTime.current() - start
            }.get()
            #expect(spun >= .milliseconds(30), "a spinning loop showed only \(spun)")
        } catch {
            try await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
    }
}
