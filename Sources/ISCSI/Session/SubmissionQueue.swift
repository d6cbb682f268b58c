// Hands work from any Swift task to a connection's event loop, one hop per batch rather than one per command.

import NIOConcurrencyHelpers
import NIOCore

/// Work waiting for a connection's event loop.
///
/// Callers append under a lock; only the append that finds no drain pending
/// schedules one. Under load many commands then share one event-loop hop and
/// one flush.
final class SubmissionQueue: Sendable {
    enum Work: Sendable {
        case command(SCSITaskRequest, EventLoopPromise<SCSITaskResult>)
        /// `submissionID` names the command to abort, for ABORT TASK.
        case taskManagement(TaskManagementFunction, lun: UInt64, submissionID: UInt64?, EventLoopPromise<UInt8>)
        case text([TextKeyValue], EventLoopPromise<[TextKeyValue]>)
        case logout(EventLoopPromise<Void>)
        case cancel(submissionID: UInt64)
        /// The command went unanswered for `after`: abort it and fail it with `.timeout`.
        case timeOut(submissionID: UInt64, after: TimeAmount)
    }

    struct Submission: Sendable {
        var id: UInt64
        var work: Work

        func fail(_ error: ISCSIError) {
            switch work {
            case .command(_, let promise): promise.fail(error)
            case .taskManagement(_, _, _, let promise): promise.fail(error)
            case .text(_, let promise): promise.fail(error)
            case .logout(let promise): promise.fail(error)
            case .cancel, .timeOut: break
            }
        }
    }

    private struct State {
        var queue: [Submission] = []
        var nextID: UInt64 = 1
        var drainScheduled = false
        var closedWith: ISCSIError?
    }

    private let state = NIOLockedValueBox(State())

    /// Queues `work`. Returns its id and whether the caller must schedule a drain.
    /// Fails the work at once when the connection is already closed.
    func enqueue(_ work: Work) -> (id: UInt64, scheduleDrain: Bool) {
        let (submission, scheduleDrain, closed) = state.withLockedValue { state -> (Submission, Bool, ISCSIError?) in
            let submission = Submission(id: state.nextID, work: work)
            state.nextID += 1
            if let error = state.closedWith { return (submission, false, error) }
            state.queue.append(submission)
            let schedule = !state.drainScheduled
            state.drainScheduled = true
            return (submission, schedule, nil)
        }
        if let closed { submission.fail(closed) }
        return (submission.id, scheduleDrain)
    }

    func takeAll() -> [Submission] {
        state.withLockedValue { state in
            state.drainScheduled = false
            defer { state.queue.removeAll(keepingCapacity: true) }
            return state.queue
        }
    }

    /// Refuses further work and returns what was still queued.
    func close(with error: ISCSIError) -> [Submission] {
        state.withLockedValue { state in
            if state.closedWith == nil { state.closedWith = error }
            defer { state.queue.removeAll() }
            return state.queue
        }
    }

    var closedError: ISCSIError? { state.withLockedValue { $0.closedWith } }
}
