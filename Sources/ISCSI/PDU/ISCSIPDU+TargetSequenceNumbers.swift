// The command-window fields every full-feature PDU from a target carries (RFC 7143 §4.2.2.1, §4.2.2.2).

extension ISCSIPDU {
    /// What a target PDU's StatSN field says.
    enum StatSNField: Sendable, Equatable {
        /// The PDU carries status with this StatSN, which the initiator acknowledges.
        case acknowledged(UInt32)
        /// The PDU carries no status; the field is the StatSN the next status will have
        /// (NOP-In, R2T).
        case next(UInt32)
        /// The field holds nothing (Data-In without status).
        case absent
    }

    /// ExpCmdSN, MaxCmdSN and StatSN of a PDU a target sends in the full feature phase;
    /// nil for initiator PDUs and Login Responses.
    var targetSequenceNumbers: (expCmdSN: UInt32, maxCmdSN: UInt32, statSN: StatSNField)? {
        switch self {
        case .dataIn(let pdu): (pdu.expCmdSN, pdu.maxCmdSN, pdu.statusPresent ? .acknowledged(pdu.statSN) : .absent)
        case .scsiResponse(let pdu): (pdu.expCmdSN, pdu.maxCmdSN, .acknowledged(pdu.statSN))
        case .readyToTransfer(let pdu): (pdu.expCmdSN, pdu.maxCmdSN, .next(pdu.statSN))
        case .nopIn(let pdu): (pdu.expCmdSN, pdu.maxCmdSN, .next(pdu.statSN))
        case .taskManagementResponse(let pdu): (pdu.expCmdSN, pdu.maxCmdSN, .acknowledged(pdu.statSN))
        case .textResponse(let pdu): (pdu.expCmdSN, pdu.maxCmdSN, .acknowledged(pdu.statSN))
        case .logoutResponse(let pdu): (pdu.expCmdSN, pdu.maxCmdSN, .acknowledged(pdu.statSN))
        case .asyncMessage(let pdu): (pdu.expCmdSN, pdu.maxCmdSN, .acknowledged(pdu.statSN))
        case .reject(let pdu): (pdu.expCmdSN, pdu.maxCmdSN, .acknowledged(pdu.statSN))
        case .loginResponse, .nopOut, .scsiCommand, .taskManagementRequest, .loginRequest, .textRequest,
            .dataOut, .logoutRequest, .snackRequest:
            nil
        }
    }
}
