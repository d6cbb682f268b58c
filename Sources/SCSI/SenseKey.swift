// The 4-bit SENSE KEY (SPC-5 table 49): the coarse class of a CHECK CONDITION.
// All sixteen values are named, so decoding never fails.

public enum SenseKey: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case noSense = 0x0
    case recoveredError = 0x1
    case notReady = 0x2
    case mediumError = 0x3
    case hardwareError = 0x4
    case illegalRequest = 0x5
    case unitAttention = 0x6
    case dataProtect = 0x7
    case blankCheck = 0x8
    case vendorSpecific = 0x9
    case copyAborted = 0xA
    case abortedCommand = 0xB
    /// Was EQUAL in SCSI-2; SPC-5 reserves it.
    case reserved = 0xC
    case volumeOverflow = 0xD
    case miscompare = 0xE
    case completed = 0xF

    /// Decodes the low four bits of `byte`; the upper bits are ignored.
    public init(lowNibbleOf byte: UInt8) {
        // Every 4-bit value has a case; the fallback is never taken.
        self = SenseKey(rawValue: byte & 0x0F) ?? .reserved
    }

    public var name: String {
        switch self {
        case .noSense: "NO SENSE"
        case .recoveredError: "RECOVERED ERROR"
        case .notReady: "NOT READY"
        case .mediumError: "MEDIUM ERROR"
        case .hardwareError: "HARDWARE ERROR"
        case .illegalRequest: "ILLEGAL REQUEST"
        case .unitAttention: "UNIT ATTENTION"
        case .dataProtect: "DATA PROTECT"
        case .blankCheck: "BLANK CHECK"
        case .vendorSpecific: "VENDOR SPECIFIC"
        case .copyAborted: "COPY ABORTED"
        case .abortedCommand: "ABORTED COMMAND"
        case .reserved: "RESERVED SENSE KEY 0xC"
        case .volumeOverflow: "VOLUME OVERFLOW"
        case .miscompare: "MISCOMPARE"
        case .completed: "COMPLETED"
        }
    }

    public var description: String { name }
}
