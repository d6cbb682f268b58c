// The 8-byte LUN field of iSCSI PDUs, from and to LUN numbers (SAM-5 §4.7 via the SCSI target's LUN).

import SCSI

extension ISCSIPDU {
    /// The LUN field for a LUN number; callers validate numbers (0...16383) before building commands.
    @inlinable
    public static func encodeLUN(_ lun: UInt64) -> UInt64 {
        guard let encoded = LUN(number: Int(lun)) else {
            preconditionFailure("LUN \(lun) is beyond single-level flat addressing")
        }
        return encoded.rawValue
    }

    /// The LUN number in a LUN field (peripheral or flat addressing); other forms come back raw.
    public static func decodeLUN(_ field: UInt64) -> UInt64 {
        let lun = LUN(rawValue: field)
        return lun.number.map(UInt64.init) ?? field
    }
}
