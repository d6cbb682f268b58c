// The 3-bit PERIPHERAL QUALIFIER (SPC-5 table 147): whether a logical unit is
// really there behind the LUN that was asked.

public struct PeripheralQualifier: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8

    /// Keeps the low three bits.
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x07 }

    /// A device of the reported type is connected to this logical unit.
    public static let connected = PeripheralQualifier(rawValue: 0)
    /// The logical unit could hold such a device, but none is connected now.
    public static let notConnected = PeripheralQualifier(rawValue: 1)
    /// No logical unit exists at this LUN.
    public static let notSupported = PeripheralQualifier(rawValue: 3)

    public var description: String {
        switch rawValue {
        case 0: "connected"
        case 1: "not connected"
        case 3: "not supported"
        default: "qualifier \(rawValue)"
        }
    }
}
