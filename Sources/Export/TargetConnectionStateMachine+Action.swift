// What a target connection's state machine asks its channel handler to do.

import ISCSI

extension TargetConnectionStateMachine {
    enum Action: Equatable {
        /// Write this PDU (the handler flushes once per batch).
        case send(ISCSIPDU)
        /// Run this command on its logical unit; report with `completed(_:outcome:)`.
        case execute(TargetCommand)
        /// Apply a task management function to the logical units (LUN for the LU-scoped ones);
        /// the response PDU follows as its own action.
        case taskManagement(TaskManagementFunction, lun: UInt64)
        /// A write ended for a broken or stalled Data-Out (its response is already among the
        /// actions); `reason` is for the log. The connection goes on.
        case writeFailed(reason: String)
        /// Flush what was sent and close the connection; `reason` is for the log.
        case close(reason: String)
    }
}
