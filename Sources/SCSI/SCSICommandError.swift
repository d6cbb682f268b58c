// The error for a command the device server completed with a status other than
// GOOD or CONDITION MET: names the command, the status and the sense in words.

/// A SCSI command that failed at the device server.
///
/// `description` reads, for example,
/// `WRITE(16) failed: CHECK CONDITION, DATA PROTECT: WRITE PROTECTED (ASC 0x27, ASCQ 0x00)`.
public struct SCSICommandError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The command's name, e.g. "READ CAPACITY(16)".
    public var operation: String
    public var status: SCSIStatus
    /// The parsed sense data, when the status came with any that could be decoded.
    public var sense: SenseData?

    public init(operation: String, status: SCSIStatus, sense: SenseData? = nil) {
        self.operation = operation
        self.status = status
        self.sense = sense
    }

    /// Names the command from its CDB (service action included).
    public init(cdb: [UInt8], status: SCSIStatus, sense: SenseData? = nil) {
        self.init(operation: OperationCode.commandName(of: cdb), status: status, sense: sense)
    }

    public var senseKey: SenseKey? { sense?.senseKey }
    public var additionalSenseCode: AdditionalSenseCode? { sense?.additionalSenseCode }

    /// A UNIT ATTENTION reports an event (reset, capacity change, reservation
    /// preempted) rather than a fault; the command may simply be sent again.
    public var isUnitAttention: Bool { sense?.senseKey == .unitAttention }

    public var description: String {
        guard let sense else { return "\(operation) failed: \(status)" }
        return "\(operation) failed: \(status), \(sense)"
    }
}
