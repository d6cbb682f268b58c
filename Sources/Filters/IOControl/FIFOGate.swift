// A first-come, first-served gate: one holder at a time, waiters in arrival order.

import NIOCore
import Synchronization

/// Keeps a disk's requests in arrival order through its ioControl queue, so no request (a flush
/// above all) overtakes one that arrived before it.
final class FIFOGate: Sendable {
    private struct State {
        var held = false
        var waiters = CircularBuffer<CheckedContinuation<Void, Never>>()
    }

    private let state = Mutex(State())

    func enter() async {
        let enteredNow = state.withLock { state in
            guard state.held else {
                state.held = true
                return true
            }
            return false
        }
        if enteredNow { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state in
                guard state.held else {
                    state.held = true
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Hands the gate to the next waiter, or opens it.
    func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let next = state.waiters.popFirst() else {
                state.held = false
                return nil
            }
            return next
        }
        next?.resume()
    }
}
