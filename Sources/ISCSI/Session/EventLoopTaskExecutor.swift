// An event loop as a Swift TaskExecutor, so a caller's task can run where its session's completions do.

import NIOConcurrencyHelpers
import NIOCore

/// Runs Swift tasks on one NIO event loop.
///
/// A task that prefers this executor (`withTaskExecutorPreference`) submits its
/// commands from the event loop that owns the connection and is resumed there
/// when they complete: no wake-up of another thread in either direction. Use it
/// for callers that do many short I/Os on one session; never block in such a task.
public final class EventLoopTaskExecutor: TaskExecutor {
    public let eventLoop: any EventLoop

    public init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// One executor per event loop, so sessions on the same loop (the paths of a multipath
    /// LUN) offer the same executor object and a caller can tell they share a thread.
    private static let perLoop = NIOLockedValueBox<[ObjectIdentifier: EventLoopTaskExecutor]>([:])

    /// The executor of `eventLoop`, made once.
    public static func of(_ eventLoop: any EventLoop) -> EventLoopTaskExecutor {
        perLoop.withLockedValue { executors in
            if let executor = executors[ObjectIdentifier(eventLoop)] { return executor }
            let executor = EventLoopTaskExecutor(eventLoop: eventLoop)
            executors[ObjectIdentifier(eventLoop)] = executor
            return executor
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        eventLoop.execute {
            job.runSynchronously(on: executor)
        }
    }
}
