// Telling a failed path from a failed command: which errors move a command to another path.

import BlockDevice
import SCSI

/// What a command's error says about the path it ran on.
enum PathFailure: Sendable, Equatable {
    /// The path itself failed (connection lost, no answer, closed under the command): retry
    /// the command on another path and mark this one dead.
    case pathDown(String)
    /// The path's target port group takes no I/O now (ALUA standby, unavailable, transitioning):
    /// retry on another path, read the ALUA states again.
    case portGroupInactive(String)
    /// The target says the logical unit is not there (LOGICAL UNIT NOT SUPPORTED): a vote for
    /// permanent device loss.
    case unitNotSupported(String)
    /// The device answered: the command failed on its own merits, on any path alike.
    case answered

    init(_ error: any Error) {
        guard let error = error as? BlockDeviceError else {
            self = .answered
            return
        }
        switch error.code {
        case .transport, .timeout, .closed:
            self = .pathDown(error.message)
            return
        default:
            break
        }
        guard let scsi = error.underlying as? SCSICommandError, let sense = scsi.sense else {
            self = .answered
            return
        }
        let code = sense.additionalSenseCode
        switch (sense.senseKey, code.asc, code.ascq) {
        case (.notReady, 0x04, 0x0A), (.notReady, 0x04, 0x0B), (.notReady, 0x04, 0x0C):
            self = .portGroupInactive("\(scsi)")
        case (.illegalRequest, 0x25, 0x00):
            self = .unitNotSupported("\(scsi)")
        default:
            self = .answered
        }
    }
}
