// The opcode byte of the Basic Header Segment (RFC 7143 §11.1.1.1).

/// Every opcode an initiator or a target may send.
public enum ISCSIOpcode: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    // Initiator opcodes.
    case nopOut = 0x00
    case scsiCommand = 0x01
    case taskManagementRequest = 0x02
    case loginRequest = 0x03
    case textRequest = 0x04
    case dataOut = 0x05
    case logoutRequest = 0x06
    case snackRequest = 0x10
    // Target opcodes.
    case nopIn = 0x20
    case scsiResponse = 0x21
    case taskManagementResponse = 0x22
    case loginResponse = 0x23
    case textResponse = 0x24
    case dataIn = 0x25
    case logoutResponse = 0x26
    case readyToTransfer = 0x31
    case asyncMessage = 0x32
    case reject = 0x3F

    /// True for opcodes a target sends.
    public var isTargetOpcode: Bool { rawValue & 0x20 != 0 }

    public var description: String {
        switch self {
        case .nopOut: "NOP-Out"
        case .scsiCommand: "SCSI Command"
        case .taskManagementRequest: "Task Management Function Request"
        case .loginRequest: "Login Request"
        case .textRequest: "Text Request"
        case .dataOut: "SCSI Data-Out"
        case .logoutRequest: "Logout Request"
        case .snackRequest: "SNACK Request"
        case .nopIn: "NOP-In"
        case .scsiResponse: "SCSI Response"
        case .taskManagementResponse: "Task Management Function Response"
        case .loginResponse: "Login Response"
        case .textResponse: "Text Response"
        case .dataIn: "SCSI Data-In"
        case .logoutResponse: "Logout Response"
        case .readyToTransfer: "Ready To Transfer (R2T)"
        case .asyncMessage: "Asynchronous Message"
        case .reject: "Reject"
        }
    }
}

/// The reserved Initiator/Target Transfer Tag value (RFC 7143 §11.1: 0xffffffff).
public let reservedTag: UInt32 = 0xFFFF_FFFF
