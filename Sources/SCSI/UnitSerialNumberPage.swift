// The Unit Serial Number page (0x80, SPC-5 §7.7.18): the initiator compares it
// after a reconnect to be sure it reached the same logical unit.

public struct UnitSerialNumberPage: Sendable, Hashable {
    /// PRODUCT SERIAL NUMBER with its space padding removed.
    public var serialNumber: String

    public init(parsing bytes: [UInt8]) throws(SCSIParseError) {
        let reader = try ByteReader.vitalProductDataPage(bytes, .unitSerialNumber)
        serialNumber = try reader.text(at: 4, count: reader.count - 4)
    }
}
