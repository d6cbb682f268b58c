// What the initiator connection's state machine asks its channel handler to do after an event.

import DequeModule
import NIOCore

extension InitiatorConnectionStateMachine {
    /// The one thing to do after an event. Promises ride along; the handler completes them.
    enum Action {
        /// Nothing to do.
        case none
        /// Write this PDU; it is flushed with the rest of the batch.
        case write(ISCSIPDU)
        /// Write a SCSI Command PDU, then the unsolicited Data-Out PDUs that follow it.
        case writeCommand(ISCSIPDU, unsolicited: DataOutBurst?)
        /// Write the Data-Out PDUs that answer an R2T.
        case writeDataOut(DataOutBurst)
        case succeedCommand(EventLoopPromise<SCSITaskResult>, SCSITaskResult)
        case fail(PendingReply, ISCSIError)
        /// A submission that never became a task (still waiting for the window, or refused).
        case failSubmission(SubmissionQueue.Submission, ISCSIError)
        /// A task management function answered with `response`; the commands it ended fail
        /// first. The promise is nil for an abort the connection sent on its own (a cancel or
        /// a timeout), whose answer nobody waits for.
        case completeTaskManagement(EventLoopPromise<UInt8>?, response: UInt8, ended: [EndedCommand])
        case succeedText(EventLoopPromise<[TextKeyValue]>, [TextKeyValue])
        /// Tell the session's owner.
        case report(ISCSISessionEvent)
        /// The login succeeded: switch the codec to the negotiated digests and limits, tell the
        /// session, and hand over whatever was submitted meanwhile.
        case loggedIn(LoginResult)
        /// The connection is over; see `ConnectionClosure`.
        case close(ConnectionClosure)
    }

    /// The promise of a task that ends without a normal answer.
    enum PendingReply {
        case command(EventLoopPromise<SCSITaskResult>)
        case taskManagement(EventLoopPromise<UInt8>)
        case text(EventLoopPromise<[TextKeyValue]>)
        case logout(EventLoopPromise<Void>)

        func fail(_ error: ISCSIError) {
            switch self {
            case .command(let promise): promise.fail(error)
            case .taskManagement(let promise): promise.fail(error)
            case .text(let promise): promise.fail(error)
            case .logout(let promise): promise.fail(error)
            }
        }
    }

    /// A command a task management function ended, and the error it fails with.
    struct EndedCommand {
        var promise: EventLoopPromise<SCSITaskResult>
        var error: ISCSIError
    }

    /// How the login promise ends when the connection closes.
    enum LoginEnding {
        /// It already ended (the connection reached the full feature phase).
        case settled
        /// Fail it with the closure's error.
        case failed
        /// Succeed it with a redirect to this portal.
        case redirected(TargetPortal, permanent: Bool)
    }

    /// Everything that ends with the connection, in the order to perform it: report the loss,
    /// settle the login, succeed the logouts the close completes, fail every other task and
    /// every waiting submission with `error`, refuse further submissions, close the channel.
    struct ConnectionClosure {
        var error: ISCSIError
        /// Report `connectionLost` (only a failure in the full feature phase is a loss).
        var reportsLoss: Bool
        var login: LoginEnding
        var loggedOut: [EventLoopPromise<Void>]
        var failed: [PendingReply]
        var waiting: Deque<SubmissionQueue.Submission>
        /// False when the channel is already going away (inactive, removed, or a redirect the
        /// session closes itself).
        var closesChannel: Bool
    }
}
