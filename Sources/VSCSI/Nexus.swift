// The I_T nexus a command arrived on: which initiator port through which target port.
// Reservations, registrations and unit attentions are kept per nexus.

/// An I_T nexus, opaque to the logical unit except for equality and reporting.
public struct Nexus: Sendable, Hashable, CustomStringConvertible {
    /// The initiator port's name as the transport knows it; for iSCSI
    /// "iqn.…,i,0x<ISID>", which is also what READ FULL STATUS reports.
    public var initiatorPortName: String
    /// RELATIVE TARGET PORT IDENTIFIER of the target port (1 for the first).
    public var relativeTargetPort: UInt16

    public init(initiatorPortName: String, relativeTargetPort: UInt16 = 1) {
        self.initiatorPortName = initiatorPortName
        self.relativeTargetPort = relativeTargetPort
    }

    public var description: String { "\(initiatorPortName) via target port \(relativeTargetPort)" }
}
