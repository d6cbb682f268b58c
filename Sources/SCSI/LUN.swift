// The 8-byte LOGICAL UNIT NUMBER field (SAM-5 §4.7) and the LUN numbers people
// configure: peripheral device addressing below 256, flat space below 16384.

/// A logical unit number as carried in iSCSI PDUs and REPORT LUNS data.
///
/// `rawValue` is the 8-byte field read as a big-endian integer, which is how the
/// iSCSI BHS carries it.
public struct LUN: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
    /// How the first level of the field addresses the logical unit.
    public enum Addressing: Sendable, Hashable {
        /// Peripheral device addressing (method 00b): bus 0 means `targetOrLUN` is the LUN.
        case peripheral(bus: UInt8, targetOrLUN: UInt8)
        /// Flat space addressing (method 01b): a 14-bit LUN.
        case flat(UInt16)
        /// Logical unit or extended addressing, or a multi-level LUN: kept raw.
        case other
    }

    /// The largest LUN flat space addressing can express.
    public static let maximumFlatNumber = 16383

    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// The field for LUN `number`: peripheral addressing below 256 (as Linux and
    /// most targets encode them), flat space up to 16383; nil beyond.
    public init?(number: Int) {
        switch number {
        case 0..<256:
            rawValue = UInt64(number) << 48
        case 256...LUN.maximumFlatNumber:
            rawValue = (0x4000 | UInt64(number)) << 48
        default:
            return nil
        }
    }

    /// Reads the 8-byte field.
    public init(bytes: [UInt8]) throws(SCSIParseError) {
        let reader = ByteReader(bytes, structure: "LUN field")
        guard bytes.count == 8 else {
            if bytes.count < 8 { throw .truncated("LUN field", needed: 8, had: bytes.count) }
            throw reader.invalid("is \(bytes.count) bytes long, not 8")
        }
        rawValue = try reader.uint64(at: 0)
    }

    /// The 8-byte field, big-endian.
    public var bytes: [UInt8] {
        var field = [UInt8](repeating: 0, count: 8)
        field.storeBigEndian(rawValue, at: 0)
        return field
    }

    public var addressing: Addressing {
        // Anything below the first level makes it a hierarchical LUN.
        guard rawValue & 0x0000_FFFF_FFFF_FFFF == 0 else { return .other }
        let firstLevel = UInt16(rawValue >> 48)
        switch firstLevel >> 14 {
        case 0b00: return .peripheral(bus: UInt8((firstLevel >> 8) & 0x3F), targetOrLUN: UInt8(firstLevel & 0xFF))
        case 0b01: return .flat(firstLevel & 0x3FFF)
        default: return .other
        }
    }

    /// The LUN number, for single-level peripheral (bus 0) and flat space LUNs.
    public var number: Int? {
        switch addressing {
        case .peripheral(bus: 0, let lun): Int(lun)
        case .peripheral: nil
        case .flat(let lun): Int(lun)
        case .other: nil
        }
    }

    public static func < (lhs: LUN, rhs: LUN) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        if let number { return "LUN \(number)" }
        return "LUN 0x\(rawValue.hexDigits)"
    }
}
