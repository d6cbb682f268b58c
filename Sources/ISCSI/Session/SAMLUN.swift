// The 8-byte LUN field of iSCSI PDUs (SAM-5 §4.7, single-level addressing).

extension ISCSIPDU {
    /// Encodes a LUN number for a PDU's LUN field: peripheral addressing below 256, flat space below 16384.
    @inlinable
    public static func encodeLUN(_ lun: UInt64) -> UInt64 {
        if lun < 256 { return lun << 48 }
        precondition(lun < 16384, "LUN \(lun) is beyond single-level flat addressing")
        return (0x4000 | lun) << 48
    }
}
