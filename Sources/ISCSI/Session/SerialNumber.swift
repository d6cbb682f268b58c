// Serial number arithmetic for CmdSN, StatSN, DataSN and R2TSN (RFC 7143 §4.2.2.1, RFC 1982 with SERIAL_BITS = 32).

/// A 32-bit sequence number that wraps, compared the RFC 1982 way.
///
/// Two numbers exactly 2^31 apart are incomparable; `<` is false both ways for them,
/// which errs on the side of treating a wildly wrong peer value as "not newer".
public struct SerialNumber: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public var rawValue: UInt32

    @inlinable
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    @inlinable
    public init(_ value: UInt32) { self.rawValue = value }

    @inlinable
    public static func < (lhs: SerialNumber, rhs: SerialNumber) -> Bool {
        let distance = rhs.rawValue &- lhs.rawValue
        return distance != 0 && distance < 0x8000_0000
    }

    @inlinable
    public static func + (lhs: SerialNumber, rhs: UInt32) -> SerialNumber {
        SerialNumber(lhs.rawValue &+ rhs)
    }

    @inlinable
    public static func - (lhs: SerialNumber, rhs: UInt32) -> SerialNumber {
        SerialNumber(lhs.rawValue &- rhs)
    }

    /// How far `other` is ahead of `self`, when it is not behind.
    @inlinable
    public func distance(to other: SerialNumber) -> UInt32? {
        other < self ? nil : other.rawValue &- rawValue
    }

    public var description: String { String(rawValue) }
}
