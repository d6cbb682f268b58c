// ALUA asymmetric access states (SPC-5 §5.16.2.4), as REPORT TARGET PORT GROUPS and
// SET TARGET PORT GROUPS carry them in four bits.

/// The state of a target port group for one logical unit.
public struct AsymmetricAccessState: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }

    public static let activeOptimized = Self(rawValue: 0x0)
    public static let activeNonOptimized = Self(rawValue: 0x1)
    public static let standby = Self(rawValue: 0x2)
    public static let unavailable = Self(rawValue: 0x3)
    public static let logicalBlockDependent = Self(rawValue: 0x4)
    public static let offline = Self(rawValue: 0xE)
    public static let transitioning = Self(rawValue: 0xF)

    /// Whether reads and writes are served through ports in this state.
    public var servesIO: Bool {
        self == .activeOptimized || self == .activeNonOptimized
    }

    public var description: String {
        switch rawValue {
        case 0x0: "active/optimized"
        case 0x1: "active/non-optimized"
        case 0x2: "standby"
        case 0x3: "unavailable"
        case 0x4: "logical block dependent"
        case 0xE: "offline"
        case 0xF: "transitioning"
        default: "reserved state 0x\(String(rawValue, radix: 16))"
        }
    }
}
