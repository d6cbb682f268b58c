// REPORT SUPPORTED OPERATION CODES for one command (REPORTING OPTIONS 001b-011b,
// SPC-5 §6.36.3): whether it is supported and which CDB bits it looks at.

public struct OperationCodeSupport: Sendable, Hashable {
    /// The SUPPORT field (SPC-5 table 262).
    public struct Support: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue & 0x07 }

        public static let notAvailable = Support(rawValue: 0b000)
        public static let notSupported = Support(rawValue: 0b001)
        public static let supported = Support(rawValue: 0b011)
        public static let supportedVendorSpecific = Support(rawValue: 0b101)

        public var isSupported: Bool { self == .supported || self == .supportedVendorSpecific }

        public var description: String {
            switch rawValue {
            case 0b000: "not available"
            case 0b001: "not supported"
            case 0b011: "supported"
            case 0b101: "supported in a vendor specific manner"
            default: "support 0b\(String(rawValue, radix: 2))"
            }
        }
    }

    public var support: Support
    /// CDB USAGE DATA: byte 0 is the opcode, then a mask of the bits the device
    /// server interprets in each CDB byte; its length is the CDB's.
    public var cdbUsageMap: [UInt8]
    /// Present when the request set RCTD and the device sent CTDP.
    public var timeouts: CommandTimeouts?

    public init(parsing bytes: [UInt8]) throws(SCSIParseError) {
        let header = ByteReader(bytes, structure: "one-command REPORT SUPPORTED OPERATION CODES data")
        try header.require(4)
        let flags = try header.uint8(at: 1)
        let hasTimeouts = flags & 0x80 != 0
        let cdbSize = Int(try header.uint16(at: 2))
        let total = 4 + cdbSize + (hasTimeouts ? 12 : 0)
        let reader = try header.subReader(
            at: 0,
            count: total,
            structure: "one-command REPORT SUPPORTED OPERATION CODES data"
        )
        support = Support(rawValue: flags)
        cdbUsageMap = try reader.bytes(at: 4, count: cdbSize)
        timeouts = hasTimeouts ? try CommandTimeouts(reader, at: 4 + cdbSize) : nil
    }

    /// The CDB length the device expects for this command.
    public var cdbSize: Int { cdbUsageMap.count }
}
