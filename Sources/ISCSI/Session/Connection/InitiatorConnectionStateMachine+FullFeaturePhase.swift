// The initiator connection's full-feature-phase state: window, tasks, waiting work, keepalive, abort deadlines.

import DequeModule
import Logging
import NIOCore

extension InitiatorConnectionStateMachine {
    /// The part of the machine that runs once login succeeded. Only the machine holds one;
    /// its event methods live in `+Inbound`, `+Submissions` and `+Timer`.
    struct FullFeaturePhase {
        struct CommandTask {
            var lun: UInt64
            var cmdSN: UInt32
            var write: WriteTransfer?
            var dataOut: ByteBuffer
            var read: ReadAssembly?
            var expectedDataInLength: Int
            var name: String
            var submissionID: UInt64
            var promise: EventLoopPromise<SCSITaskResult>
            /// Set when the command timed out and ABORT TASK was sent for it.
            var timedOutAfter: TimeAmount?
        }

        struct TaskManagementTask {
            var function: TaskManagementFunction
            var lun: UInt64
            var referencedTag: UInt32
            /// nil for an abort the connection sent itself.
            var promise: EventLoopPromise<UInt8>?
            /// Set for the ABORT TASK of a timed-out command: refusing it ends the connection.
            var refusal: ISCSIError?
        }

        enum Task {
            case command(CommandTask)
            case ping(NIODeadline)
            case taskManagement(TaskManagementTask)
            case text(TextExchangeStateMachine, EventLoopPromise<[TextKeyValue]>)
            case logout(EventLoopPromise<Void>)
        }

        /// An ABORT TASK for a timed-out command: unanswered by `deadline`, the connection is lost.
        struct AbortDeadline {
            var tag: UInt32
            var deadline: NIODeadline
            var error: ISCSIError
        }

        let portal: TargetPortal
        let connectionID: UInt16
        let allocator: ByteBufferAllocator
        let logger: Logger
        var window = CommandWindow(cmdSN: 0, expCmdSN: 0, maxCmdSN: 0, expStatSN: 0)
        var limits = TransferLimits.rfcDefaults
        var tasks = TaskTable<Task>()
        var waiting: Deque<SubmissionQueue.Submission> = []
        var keepalive: KeepaliveStateMachine?
        /// When the keepalive next needs a tick.
        var keepaliveDue: NIODeadline?
        var abortDeadlines: [AbortDeadline] = []

        init(portal: TargetPortal, connectionID: UInt16, allocator: ByteBufferAllocator, logger: Logger) {
            self.portal = portal
            self.connectionID = connectionID
            self.allocator = allocator
            self.logger = logger
        }

        mutating func enterFullFeaturePhase(
            _ result: LoginResult,
            keepaliveInterval: TimeAmount?,
            keepaliveTimeout: TimeAmount,
            now: NIODeadline
        ) {
            let negotiated = result.parameters
            limits = TransferLimits(
                immediateData: negotiated.immediateData,
                initialR2T: negotiated.initialR2T,
                firstBurstLength: negotiated.firstBurstLength,
                maxBurstLength: negotiated.maxBurstLength,
                maxSendDataSegmentLength: negotiated.targetMaxRecvDataSegmentLength,
                maxRecvDataSegmentLength: negotiated.maxRecvDataSegmentLength,
                maxOutstandingR2T: negotiated.maxOutstandingR2T
            )
            window = CommandWindow(
                cmdSN: result.cmdSN,
                expCmdSN: result.expCmdSN,
                maxCmdSN: result.maxCmdSN,
                expStatSN: result.expStatSN
            )
            if let keepaliveInterval {
                keepalive = KeepaliveStateMachine(interval: keepaliveInterval, timeout: keepaliveTimeout, now: now)
                keepaliveDue = now + keepaliveInterval
            }
        }

        /// The earliest time something may be due: the keepalive's next tick or an abort's deadline.
        var nextDeadline: NIODeadline? {
            var next = keepaliveDue
            for abort in abortDeadlines where next == nil || abort.deadline < next! {
                next = abort.deadline
            }
            return next
        }

        /// Ends every task and waiting submission with `error`.
        mutating func close(
            _ error: ISCSIError,
            reportsLoss: Bool,
            login: LoginEnding,
            closesChannel: Bool
        ) -> ConnectionClosure {
            var closure = ConnectionClosure(
                error: error,
                reportsLoss: reportsLoss,
                login: login,
                loggedOut: [],
                failed: [],
                waiting: waiting,
                closesChannel: closesChannel
            )
            waiting = []
            keepalive = nil
            keepaliveDue = nil
            abortDeadlines = []
            for (_, task) in tasks.removeAll() {
                switch task {
                case .command(let command): closure.failed.append(.command(command.promise))
                case .ping: break
                case .taskManagement(let management):
                    if let promise = management.promise { closure.failed.append(.taskManagement(promise)) }
                case .text(_, let promise): closure.failed.append(.text(promise))
                case .logout(let promise):
                    // The target closing the connection after a logout request is the logout completing.
                    if error.code == .connectionClosed {
                        closure.loggedOut.append(promise)
                    } else {
                        closure.failed.append(.logout(promise))
                    }
                }
            }
            return closure
        }

        /// Ends the connection from inside the full feature phase: a loss, reported, and the channel closed.
        mutating func fail(_ error: ISCSIError) -> Action {
            .close(close(error, reportsLoss: true, login: .settled, closesChannel: true))
        }

        static func seconds(_ amount: TimeAmount) -> String {
            let tenths = amount.nanoseconds / 100_000_000
            return "\(tenths / 10).\(tenths % 10) s"
        }

        static func hex(_ tag: UInt32) -> String { "0x" + String(tag, radix: 16) }
    }
}
