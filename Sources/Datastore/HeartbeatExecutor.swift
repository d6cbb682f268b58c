// The thread heartbeats run on: their own, so a Swift task pool kept busy by other work (CPU-bound
// tasks, a flood of I/O completions) cannot delay a renewal past the lease and fence a healthy host.

import NIOCore
import NIOPosix

/// A task executor on one event loop of its own. The heartbeat task prefers it, so the renewal
/// loop, its sleeps and the resumption after each renewal's I/O run on this thread rather than in
/// the shared cooperative pool. It lives as long as the process, serving every mounted datastore.
final class HeartbeatExecutor: TaskExecutor {
    static let shared = HeartbeatExecutor()

    /// One thread, never shut down: the heartbeats of every mount in the process share it, and each
    /// renewal is a few sectors of I/O every few seconds.
    let loop: any EventLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1).next()

    private init() {}

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }

    /// Waits `duration` by `clock`: for the real clock on this thread's own timer, as `Task.sleep`
    /// would wake the task through the global pool first, which is what a starved pool delays; a
    /// test's manual clock is moved by hand, so it sleeps its own way.
    func sleep(for duration: Duration, by clock: any DatastoreClock) async throws {
        guard clock is SystemDatastoreClock else {
            try await clock.sleep(for: duration)
            return
        }
        let components = duration.components
        let nanoseconds = components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
        let scheduled = loop.scheduleTask(in: .nanoseconds(nanoseconds)) {}
        try await withTaskCancellationHandler {
            try await scheduled.futureResult.get()
        } onCancel: {
            scheduled.cancel()
        }
    }
}
