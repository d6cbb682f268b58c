// One I/O travelling through a non-empty chain: which filter holds it and for how long, so
// the watchdog can time out a filter that stops answering without counting time spent below it.

import Synchronization

/// Tracks one request from the client's call to its single completion. The client waits on
/// `continuation`; whoever finishes first (the chain, or the watchdog on a timeout) resumes it,
/// and anything later is dropped. Once `abandoned`, a filter still holding the request can no
/// longer pass it down: a filter that wakes after its timeout cannot write behind the client's back.
final class FilterCall: Sendable {
    struct StageTiming {
        var own: Duration = .zero
        var heldSince: ContinuousClock.Instant?
        var below = 0
        var deferring = 0
        var lastReply: FilterReply?
    }

    private struct State {
        var stages: [StageTiming]
        var continuation: CheckedContinuation<FilterReply, any Error>?
        var result: Result<FilterReply, any Error>?
        var abandoned = false
    }

    let request: FilterRequest
    private let state: Mutex<State>

    init(_ request: FilterRequest, stageCount: Int) {
        self.request = request
        self.state = Mutex(State(stages: Array(repeating: StageTiming(), count: stageCount)))
    }

    func enter(_ stage: Int) {
        state.withLock { $0.stages[stage].heldSince = .now }
    }

    func leave(_ stage: Int) {
        state.withLock { Self.stopHolding(&$0.stages[stage]) }
    }

    /// The filter at `stage` passes the request down (or starts a declared deferral).
    func beginBelow(_ stage: Int, deferring: Bool = false) throws(FilterAbandoned) {
        try state.withLock { (state: inout State) throws(FilterAbandoned) in
            guard !state.abandoned else { throw FilterAbandoned() }
            Self.stopHolding(&state.stages[stage])
            if deferring { state.stages[stage].deferring += 1 } else { state.stages[stage].below += 1 }
        }
    }

    func endBelow(_ stage: Int, deferring: Bool = false, reply: FilterReply?) {
        state.withLock { state in
            var timing = state.stages[stage]
            if deferring { timing.deferring -= 1 } else { timing.below -= 1 }
            if let reply { timing.lastReply = reply }
            if timing.below == 0 && timing.deferring == 0 { timing.heldSince = .now }
            state.stages[stage] = timing
        }
    }

    /// The reply the filter at `stage` last got from below, once nothing of it is still below.
    func completedReply(_ stage: Int) -> FilterReply? {
        state.withLock { $0.stages[stage].below == 0 ? $0.stages[stage].lastReply : nil }
    }

    /// The first stage holding the request longer than its timeout allows.
    func overdueStage(timeouts: [Duration], now: ContinuousClock.Instant) -> Int? {
        state.withLock { state in
            guard state.result == nil, !state.abandoned else { return nil }
            return state.stages.indices.first { index in
                let timing = state.stages[index]
                guard let since = timing.heldSince else { return false }
                return timing.own + (now - since) > timeouts[index]
            }
        }
    }

    func abandon() {
        state.withLock { $0.abandoned = true }
    }

    /// Waits for the one result; `start` begins the work once the continuation is in place.
    func wait(_ start: () -> Void) async throws -> FilterReply {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<FilterReply, any Error>? = state.withLock { state in
                if let result = state.result { return result }
                state.continuation = continuation
                return nil
            }
            if let ready {
                continuation.resume(with: ready)
            } else {
                start()
            }
        }
    }

    /// Completes the call; only the first result counts.
    func finish(_ result: Result<FilterReply, any Error>) {
        let continuation: CheckedContinuation<FilterReply, any Error>? = state.withLock { state in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(with: result)
    }

    private static func stopHolding(_ timing: inout StageTiming) {
        if let since = timing.heldSince {
            timing.own += .now - since
            timing.heldSince = nil
        }
    }
}

/// Thrown to a filter that passes down a request the chain already gave up on.
struct FilterAbandoned: Error, CustomStringConvertible {
    var description: String { "the chain already gave up on this I/O (the filter did not answer in time)" }
}
