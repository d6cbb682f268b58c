// How a host opens a disk: alone for writing, or shared read-only with others.

/// How a disk is opened.
public enum DiskOpenMode: Sendable, Hashable, CustomStringConvertible {
    /// One host reads and writes.
    case exclusive
    /// Any number of hosts read; nobody writes.
    case sharedReadOnly

    public var description: String {
        switch self {
        case .exclusive: "exclusive"
        case .sharedReadOnly: "shared read-only"
        }
    }
}
