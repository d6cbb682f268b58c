// Wakes commands waiting for a usable path when any path's state changes.

import Synchronization

/// A versioned broadcast: `wait(seenVersion:upTo:)` returns as soon as the version moves past
/// the one the caller saw (so a change between looking and waiting is never missed), when
/// `timeout` passes, or when the task is cancelled.
final class PathChangeSignal: Sendable {
    private struct Inner {
        var version: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
        /// Waiters whose timeout or cancellation came before they were registered.
        var ended: Set<UInt64> = []
    }

    private let inner = Mutex(Inner())

    var version: UInt64 { inner.withLock { $0.version } }

    /// Moves the version on and wakes every waiter.
    func signal() {
        let waiters = inner.withLock { inner in
            inner.version &+= 1
            defer { inner.waiters = [:] }
            return Array(inner.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait(seenVersion: UInt64, upTo timeout: Duration) async {
        let id = inner.withLock { inner in
            defer { inner.nextWaiter &+= 1 }
            return inner.nextWaiter
        }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            self?.resume(id)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = inner.withLock { inner -> Bool in
                    if inner.version != seenVersion || inner.ended.contains(id) || Task.isCancelled { return true }
                    inner.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            resume(id)
        }
        timer.cancel()
        await timer.value
        inner.withLock { _ = $0.ended.remove(id) }
    }

    private func resume(_ id: UInt64) {
        let waiter = inner.withLock { inner in
            guard let waiter = inner.waiters.removeValue(forKey: id) else {
                inner.ended.insert(id)
                return CheckedContinuation<Void, Never>?.none
            }
            return waiter
        }
        waiter?.resume()
    }
}
