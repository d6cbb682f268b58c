// Which unit of a target answers a command: the one its LUN names, except for the
// commands that describe the whole target.

import SCSI

extension SCSICommandRequest {
    /// REPORT LUNS describes the target, not one unit (SPC-5 §6.33): a transport answers it
    /// from any unit of the target, whatever LUN it was sent to, even one that does not exist.
    public static func isAddressedToTarget(cdb: [UInt8]) -> Bool {
        cdb.first == OperationCode.reportLUNs.rawValue
    }
}
