// One iSCSI PDU as a value: a case per opcode, each carrying its payload struct.

import NIOCore

/// A decoded or to-be-encoded iSCSI PDU (RFC 7143 §11).
///
/// Data segments are `ByteBuffer` slices: the decoder hands out views of what it
/// read, and the encoder writes the caller's buffer without copying it first.
public enum ISCSIPDU: Sendable, Equatable {
    case nopOut(NOPOut)
    case scsiCommand(SCSICommand)
    case taskManagementRequest(TaskManagementRequest)
    case loginRequest(LoginRequest)
    case textRequest(TextRequest)
    case dataOut(DataOut)
    case logoutRequest(LogoutRequest)
    case snackRequest(SNACKRequest)
    case nopIn(NOPIn)
    case scsiResponse(SCSIResponse)
    case taskManagementResponse(TaskManagementResponse)
    case loginResponse(LoginResponse)
    case textResponse(TextResponse)
    case dataIn(DataIn)
    case logoutResponse(LogoutResponse)
    case readyToTransfer(ReadyToTransfer)
    case asyncMessage(AsyncMessage)
    case reject(Reject)

    public var opcode: ISCSIOpcode {
        switch self {
        case .nopOut: .nopOut
        case .scsiCommand: .scsiCommand
        case .taskManagementRequest: .taskManagementRequest
        case .loginRequest: .loginRequest
        case .textRequest: .textRequest
        case .dataOut: .dataOut
        case .logoutRequest: .logoutRequest
        case .snackRequest: .snackRequest
        case .nopIn: .nopIn
        case .scsiResponse: .scsiResponse
        case .taskManagementResponse: .taskManagementResponse
        case .loginResponse: .loginResponse
        case .textResponse: .textResponse
        case .dataIn: .dataIn
        case .logoutResponse: .logoutResponse
        case .readyToTransfer: .readyToTransfer
        case .asyncMessage: .asyncMessage
        case .reject: .reject
        }
    }

    /// The Initiator Task Tag; `reservedTag` for the two PDUs whose bytes 16-19 are fixed at 0xffffffff (Async Message §11.9, Reject §11.17).
    public var initiatorTaskTag: UInt32 {
        switch self {
        case .nopOut(let p): p.initiatorTaskTag
        case .scsiCommand(let p): p.initiatorTaskTag
        case .taskManagementRequest(let p): p.initiatorTaskTag
        case .loginRequest(let p): p.initiatorTaskTag
        case .textRequest(let p): p.initiatorTaskTag
        case .dataOut(let p): p.initiatorTaskTag
        case .logoutRequest(let p): p.initiatorTaskTag
        case .snackRequest(let p): p.initiatorTaskTag
        case .nopIn(let p): p.initiatorTaskTag
        case .scsiResponse(let p): p.initiatorTaskTag
        case .taskManagementResponse(let p): p.initiatorTaskTag
        case .loginResponse(let p): p.initiatorTaskTag
        case .textResponse(let p): p.initiatorTaskTag
        case .dataIn(let p): p.initiatorTaskTag
        case .logoutResponse(let p): p.initiatorTaskTag
        case .readyToTransfer(let p): p.initiatorTaskTag
        case .asyncMessage: reservedTag
        case .reject: reservedTag
        }
    }
}
