// The 5-bit PERIPHERAL DEVICE TYPE of INQUIRY data and VPD pages (SPC-5 table 148).

public struct PeripheralDeviceType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8

    /// Keeps the low five bits.
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x1F }

    public static let directAccessBlock = PeripheralDeviceType(rawValue: 0x00)
    public static let sequentialAccess = PeripheralDeviceType(rawValue: 0x01)
    public static let processor = PeripheralDeviceType(rawValue: 0x03)
    public static let writeOnce = PeripheralDeviceType(rawValue: 0x04)
    public static let cdDVD = PeripheralDeviceType(rawValue: 0x05)
    public static let opticalMemory = PeripheralDeviceType(rawValue: 0x07)
    public static let mediumChanger = PeripheralDeviceType(rawValue: 0x08)
    public static let storageArrayController = PeripheralDeviceType(rawValue: 0x0C)
    public static let enclosureServices = PeripheralDeviceType(rawValue: 0x0D)
    public static let simplifiedDirectAccess = PeripheralDeviceType(rawValue: 0x0E)
    public static let opticalCardReaderWriter = PeripheralDeviceType(rawValue: 0x0F)
    public static let objectBasedStorage = PeripheralDeviceType(rawValue: 0x11)
    public static let automationDriveInterface = PeripheralDeviceType(rawValue: 0x12)
    public static let hostManagedZonedBlock = PeripheralDeviceType(rawValue: 0x14)
    public static let wellKnownLogicalUnit = PeripheralDeviceType(rawValue: 0x1E)
    public static let unknown = PeripheralDeviceType(rawValue: 0x1F)

    public var name: String {
        switch rawValue {
        case 0x00: "direct access block device"
        case 0x01: "sequential access device"
        case 0x03: "processor device"
        case 0x04: "write-once device"
        case 0x05: "CD/DVD device"
        case 0x07: "optical memory device"
        case 0x08: "medium changer"
        case 0x0C: "storage array controller"
        case 0x0D: "enclosure services device"
        case 0x0E: "simplified direct-access device"
        case 0x0F: "optical card reader/writer"
        case 0x11: "object-based storage device"
        case 0x12: "automation/drive interface"
        case 0x14: "host managed zoned block device"
        case 0x1E: "well known logical unit"
        case 0x1F: "unknown or no device type"
        default: "device type 0x\(rawValue.hexDigits)"
        }
    }

    public var description: String { name }
}
