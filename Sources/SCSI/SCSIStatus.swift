// The STATUS byte a command completes with (SAM-5 §5.3). Values the standard
// has not assigned stay representable so a strange target can still be reported.

/// A SCSI status code. Unknown values are kept as they came, not rejected.
public struct SCSIStatus: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8

    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let good = SCSIStatus(rawValue: 0x00)
    public static let checkCondition = SCSIStatus(rawValue: 0x02)
    public static let conditionMet = SCSIStatus(rawValue: 0x04)
    public static let busy = SCSIStatus(rawValue: 0x08)
    public static let reservationConflict = SCSIStatus(rawValue: 0x18)
    public static let taskSetFull = SCSIStatus(rawValue: 0x28)
    public static let acaActive = SCSIStatus(rawValue: 0x30)
    public static let taskAborted = SCSIStatus(rawValue: 0x40)

    /// Every status SAM-5 assigns, in code order.
    public static let allAssigned: [SCSIStatus] = [
        .good, .checkCondition, .conditionMet, .busy, .reservationConflict, .taskSetFull, .acaActive, .taskAborted,
    ]

    /// Whether the command did what it was asked (GOOD or CONDITION MET).
    public var isSuccess: Bool { self == .good || self == .conditionMet }

    /// The SAM-5 name, or "STATUS 0xNN" for a value SAM-5 leaves unassigned.
    public var name: String {
        switch rawValue {
        case 0x00: "GOOD"
        case 0x02: "CHECK CONDITION"
        case 0x04: "CONDITION MET"
        case 0x08: "BUSY"
        case 0x18: "RESERVATION CONFLICT"
        case 0x28: "TASK SET FULL"
        case 0x30: "ACA ACTIVE"
        case 0x40: "TASK ABORTED"
        default: "STATUS 0x\(rawValue.hexDigits)"
        }
    }

    public var description: String { name }
}
