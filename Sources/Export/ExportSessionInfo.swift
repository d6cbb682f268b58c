// What an export can say about one logged-in session, for status reports.

/// A session as the control socket reports it: who logged in, from where, through which portal.
public struct ExportSessionInfo: Sendable, Hashable {
    /// The initiator's iSCSI name.
    public var initiatorName: String
    /// The initiator's 48-bit session ID.
    public var isid: UInt64
    /// The target the session logged in to; nil for a discovery session.
    public var targetName: String?
    /// The target session identifying handle we assigned.
    public var tsih: UInt16
    /// The local address the connection came in on ("HOST:PORT").
    public var portal: String
    /// The initiator's address ("HOST:PORT").
    public var initiatorAddress: String
    /// Connections in the session; MaxConnections is 1, so always 1 today.
    public var connections: Int

    public init(initiatorName: String, isid: UInt64, targetName: String?, tsih: UInt16, portal: String, initiatorAddress: String, connections: Int) {
        self.initiatorName = initiatorName
        self.isid = isid
        self.targetName = targetName
        self.tsih = tsih
        self.portal = portal
        self.initiatorAddress = initiatorAddress
        self.connections = connections
    }

    /// The ISID as 12 hex digits, as iscsiadm and tgtadm print it.
    public var isidHex: String { Self.hex(isid: isid) }

    /// The low 48 bits of `isid` as 12 hex digits.
    static func hex(isid: UInt64) -> String {
        let digits = String(isid & 0xFFFF_FFFF_FFFF, radix: 16)
        return String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }
}
