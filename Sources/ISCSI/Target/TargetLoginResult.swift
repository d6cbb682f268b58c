// What a finished login hands to the full feature phase of a target connection.

/// A logged-in connection's identity, agreed parameters and sequence numbers.
public struct TargetLoginResult: Sendable, Hashable {
    public var sessionType: SessionType
    public var initiatorName: String
    public var targetName: String?
    public var isid: UInt64
    public var tsih: UInt16
    public var connectionID: UInt16
    public var parameters: TargetSessionParameters
    /// The CmdSN the first full-feature command will carry (login PDUs do not advance it).
    public var expCmdSN: UInt32
    /// The StatSN of the first full-feature response.
    public var nextStatSN: UInt32
    /// The CHAP user the initiator proved; nil without CHAP. A discovery session lists
    /// only the targets this user (or no CHAP at all) opens.
    public var chapUser: String? = nil

    /// The iSCSI initiator port name, "name,i,0x<ISID>" (RFC 7143 §4.2.7.1), for SCSI nexuses.
    public var initiatorPortName: String {
        let digits = String(isid & 0xFFFF_FFFF_FFFF, radix: 16)
        return initiatorName + ",i,0x" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }
}
