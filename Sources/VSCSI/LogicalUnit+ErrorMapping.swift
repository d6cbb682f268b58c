// How failures from below become SCSI status and sense. The choices for failures
// SCSI has no exact word for are listed in docs/VSCSI.md ("Device errors").

import BlockDevice
import SCSI

extension LogicalUnit {
    func commandFailure(for error: any Error, context: CommandContext) -> CommandFailure {
        switch error {
        case let failure as CommandFailure:
            return failure
        case let deviceError as BlockDeviceError:
            return Self.commandFailure(for: deviceError, writing: context.descriptor.rules.contains(.modifiesMedium))
        case RangeLockTable.WaitError.aborted, is CancellationError:
            return .taskAborted
        default:
            return .check(.hardwareError, .internalTargetFailure)
        }
    }

    /// The SCSI face of a block device failure; `writing` picks WRITE ERROR over
    /// UNRECOVERED READ ERROR for medium errors.
    static func commandFailure(for error: BlockDeviceError, writing: Bool) -> CommandFailure {
        switch error.code {
        case .outOfRange:
            return .lbaOutOfRange
        case .readOnly:
            return .writeProtected
        case .miscompare:
            return .miscompare(offset: error.miscompareOffset ?? 0)
        case .mediumError:
            return .check(.mediumError, writing ? .writeError : .unrecoveredReadError)
        case .reservationConflict:
            return .reservationConflict
        case .busy:
            return .busy
        case .transport, .timeout:
            // The path below may come back: ABORTED COMMAND is what initiators retry.
            return .check(.abortedCommand, .logicalUnitCommunicationFailure)
        case .fenced:
            // The datastore stopped I/O to protect data; only an operator brings it back.
            return .check(.notReady, .logicalUnitNotReadyManualInterventionRequired)
        case .closed:
            return .check(.notReady, .logicalUnitNotReadyCauseNotReportable)
        case .noSpace:
            // SBC-4's answer for a thin unit out of space; initiators (QEMU: ENOSPC) act on it.
            return .check(.dataProtect, .spaceAllocationFailedWriteProtect)
        case .notSupported:
            return .check(.illegalRequest, .invalidFieldInCDB)
        case .deviceLost:
            // The LUN below is gone on every path: say so as the LUN's own target would.
            return .check(.illegalRequest, .logicalUnitNotSupported)
        default:
            // invalidArgument (the unit checked the request, so this is our own bug) and deviceError.
            return .check(.hardwareError, .internalTargetFailure)
        }
    }
}
