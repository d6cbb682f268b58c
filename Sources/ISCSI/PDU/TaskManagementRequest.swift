// Task Management Function Request PDU, opcode 0x02 (RFC 7143 §11.5).

/// The Function field (§11.5.1).
public enum TaskManagementFunction: UInt8, Sendable, Hashable, CustomStringConvertible {
    case abortTask = 1
    case abortTaskSet = 2
    case clearACA = 3
    case clearTaskSet = 4
    case logicalUnitReset = 5
    case targetWarmReset = 6
    case targetColdReset = 7
    case taskReassign = 8

    public var description: String {
        switch self {
        case .abortTask: "ABORT TASK"
        case .abortTaskSet: "ABORT TASK SET"
        case .clearACA: "CLEAR ACA"
        case .clearTaskSet: "CLEAR TASK SET"
        case .logicalUnitReset: "LOGICAL UNIT RESET"
        case .targetWarmReset: "TARGET WARM RESET"
        case .targetColdReset: "TARGET COLD RESET"
        case .taskReassign: "TASK REASSIGN"
        }
    }
}

public struct TaskManagementRequest: Sendable, Equatable {
    public var immediate: Bool
    public var function: TaskManagementFunction
    public var lun: UInt64
    public var initiatorTaskTag: UInt32
    /// The task to abort (ABORT TASK), else `reservedTag`.
    public var referencedTaskTag: UInt32
    public var cmdSN: UInt32
    public var expStatSN: UInt32
    public var refCmdSN: UInt32
    public var expDataSN: UInt32

    public init(
        immediate: Bool = true,
        function: TaskManagementFunction,
        lun: UInt64,
        initiatorTaskTag: UInt32,
        referencedTaskTag: UInt32 = reservedTag,
        cmdSN: UInt32,
        expStatSN: UInt32,
        refCmdSN: UInt32 = 0,
        expDataSN: UInt32 = 0
    ) {
        self.immediate = immediate
        self.function = function
        self.lun = lun
        self.initiatorTaskTag = initiatorTaskTag
        self.referencedTaskTag = referencedTaskTag
        self.cmdSN = cmdSN
        self.expStatSN = expStatSN
        self.refCmdSN = refCmdSN
        self.expDataSN = expDataSN
    }
}
