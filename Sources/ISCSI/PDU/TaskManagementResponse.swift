// Task Management Function Response PDU, opcode 0x22 (RFC 7143 §11.6).

/// The Response field (§11.6.1).
public enum TaskManagementResponseCode: UInt8, Sendable, Hashable, CustomStringConvertible {
    case functionComplete = 0
    case taskDoesNotExist = 1
    case lunDoesNotExist = 2
    case taskStillAllegiant = 3
    case reassignmentNotSupported = 4
    case functionNotSupported = 5
    case authorizationFailed = 6
    case functionRejected = 255

    public var description: String {
        switch self {
        case .functionComplete: "function complete"
        case .taskDoesNotExist: "task does not exist"
        case .lunDoesNotExist: "LUN does not exist"
        case .taskStillAllegiant: "task still allegiant"
        case .reassignmentNotSupported: "task allegiance reassignment not supported"
        case .functionNotSupported: "task management function not supported"
        case .authorizationFailed: "function authorization failed"
        case .functionRejected: "function rejected"
        }
    }
}

public struct TaskManagementResponse: Sendable, Equatable {
    /// Raw Response byte; `TaskManagementResponseCode` names the defined values.
    public var response: UInt8
    public var initiatorTaskTag: UInt32
    public var statSN: UInt32
    public var expCmdSN: UInt32
    public var maxCmdSN: UInt32

    public init(response: UInt8, initiatorTaskTag: UInt32, statSN: UInt32, expCmdSN: UInt32, maxCmdSN: UInt32) {
        self.response = response
        self.initiatorTaskTag = initiatorTaskTag
        self.statSN = statSN
        self.expCmdSN = expCmdSN
        self.maxCmdSN = maxCmdSN
    }
}
