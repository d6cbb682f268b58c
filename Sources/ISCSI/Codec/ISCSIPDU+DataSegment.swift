// The data segment of each PDU (RFC 7143 §11.2.3): which opcodes carry one, and reading or attaching it without a copy.

import NIOCore

extension ISCSIPDU {
    /// The PDU's data segment; empty for opcodes that carry none.
    ///
    /// Returned as the stored `ByteBuffer`, so it shares storage with the
    /// payload the caller put in (or the slice the decoder read): no bytes move.
    public var dataSegment: ByteBuffer {
        switch self {
        case .nopOut(let p): p.data
        case .scsiCommand(let p): p.data
        case .loginRequest(let p): p.data
        case .textRequest(let p): p.data
        case .dataOut(let p): p.data
        case .nopIn(let p): p.data
        case .scsiResponse(let p): p.data
        case .loginResponse(let p): p.data
        case .textResponse(let p): p.data
        case .dataIn(let p): p.data
        case .asyncMessage(let p): p.data
        case .reject(let p): p.data
        case .taskManagementRequest, .logoutRequest, .snackRequest, .taskManagementResponse, .logoutResponse,
            .readyToTransfer:
            ByteBuffer()
        }
    }

    /// Attaches a data segment the decoder read after the header.
    ///
    /// Only called for opcodes whose header accepted a non-zero
    /// DataSegmentLength; the others were rejected when the header was parsed.
    mutating func attachDataSegment(_ data: ByteBuffer) {
        switch self {
        case .nopOut(var p):
            p.data = data
            self = .nopOut(p)
        case .scsiCommand(var p):
            p.data = data
            self = .scsiCommand(p)
        case .loginRequest(var p):
            p.data = data
            self = .loginRequest(p)
        case .textRequest(var p):
            p.data = data
            self = .textRequest(p)
        case .dataOut(var p):
            p.data = data
            self = .dataOut(p)
        case .nopIn(var p):
            p.data = data
            self = .nopIn(p)
        case .scsiResponse(var p):
            p.data = data
            self = .scsiResponse(p)
        case .loginResponse(var p):
            p.data = data
            self = .loginResponse(p)
        case .textResponse(var p):
            p.data = data
            self = .textResponse(p)
        case .dataIn(var p):
            p.data = data
            self = .dataIn(p)
        case .asyncMessage(var p):
            p.data = data
            self = .asyncMessage(p)
        case .reject(var p):
            p.data = data
            self = .reject(p)
        case .taskManagementRequest, .logoutRequest, .snackRequest, .taskManagementResponse, .logoutResponse,
            .readyToTransfer:
            preconditionFailure("\(self.opcode) carries no data segment; its header parser must have refused one")
        }
    }
}
