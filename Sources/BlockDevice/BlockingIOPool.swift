// A small set of dedicated threads for blocking syscalls (pread, pwrite, fdatasync,
// fcntl locks), so that none of them ever stalls Swift's cooperative thread pool.

import Dispatch
import Foundation
import NIOConcurrencyHelpers

/// Runs blocking closures on its own threads and resumes the awaiting task when done.
///
/// The threads live as long as the process: a pool is meant to be created once
/// (``shared``) and handed to every file-backed device.
public final class BlockingIOPool: Sendable {
    /// The pool file devices use unless they are given another one.
    public static let shared = BlockingIOPool(threadCount: 4, name: "vdisk-blocking-io")

    private struct Queue {
        var jobs: [@Sendable () -> Void] = []
        var head = 0

        mutating func pop() -> (@Sendable () -> Void)? {
            guard head < jobs.count else { return nil }
            let job = jobs[head]
            head += 1
            // Compact now and then so a long-lived pool does not keep every finished job.
            if head > 64 && head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            return job
        }
    }

    private let queue = NIOLockedValueBox(Queue())
    private let pending = DispatchSemaphore(value: 0)
    public let threadCount: Int

    /// Starts `threadCount` threads. More threads let more blocking calls (a waiting
    /// byte-range lock, a slow fdatasync) overlap without delaying the others.
    public init(threadCount: Int, name: String) {
        precondition(threadCount > 0, "a blocking I/O pool needs at least one thread")
        self.threadCount = threadCount
        for index in 0..<threadCount {
            let thread = Thread { [self] in self.workLoop() }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    private func workLoop() {
        while true {
            pending.wait()
            if let job = queue.withLockedValue({ $0.pop() }) {
                job()
            }
        }
    }

    /// Queues `job` on one of the pool's threads.
    public func submit(_ job: @escaping @Sendable () -> Void) {
        queue.withLockedValue { $0.jobs.append(job) }
        pending.signal()
    }

    /// Runs `body` on a pool thread and returns its result to the calling task.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            submit {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
