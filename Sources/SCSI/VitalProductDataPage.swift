// The PAGE CODE of the vital product data pages an initiator of disks reads
// (SPC-5 §7.7, SBC-4 §6.6); others stay expressible by raw value.

/// A VPD page code for INQUIRY with EVPD set.
public struct VitalProductDataPage: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8

    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let supportedPages = VitalProductDataPage(rawValue: 0x00)
    public static let unitSerialNumber = VitalProductDataPage(rawValue: 0x80)
    public static let deviceIdentification = VitalProductDataPage(rawValue: 0x83)
    public static let extendedInquiryData = VitalProductDataPage(rawValue: 0x86)
    public static let blockLimits = VitalProductDataPage(rawValue: 0xB0)
    public static let blockDeviceCharacteristics = VitalProductDataPage(rawValue: 0xB1)
    public static let logicalBlockProvisioning = VitalProductDataPage(rawValue: 0xB2)

    public var name: String {
        switch rawValue {
        case 0x00: "Supported VPD Pages"
        case 0x80: "Unit Serial Number"
        case 0x83: "Device Identification"
        case 0x86: "Extended INQUIRY Data"
        case 0xB0: "Block Limits"
        case 0xB1: "Block Device Characteristics"
        case 0xB2: "Logical Block Provisioning"
        default: "VPD page 0x\(rawValue.hexDigits)"
        }
    }

    public var description: String { name }
}
