// The VAIO categories a filter belongs to, in the order they run from the client down.

/// Where a filter sits in a disk's chain. The order is fixed: a chain holds at most one
/// filter of each category, and they run `ioControl` first (nearest the client) and `cache`
/// last (nearest the datastore), so, for instance, replication sees what encryption wrote
/// and a cache holds ciphertext.
public enum FilterCategory: String, Sendable, Hashable, CaseIterable, Comparable, CustomStringConvertible {
    case ioControl
    case inspection
    case encryption
    case replication
    case cache

    /// Position from the client down (0 runs first).
    public var rank: Int {
        switch self {
        case .ioControl: 0
        case .inspection: 1
        case .encryption: 2
        case .replication: 3
        case .cache: 4
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }

    public var description: String { rawValue }

    /// "ioControl → inspection → encryption → replication → cache", for error messages.
    public static var orderDescription: String { allCases.map(\.rawValue).joined(separator: " → ") }
}
