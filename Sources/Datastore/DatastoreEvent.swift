// What a mount tells its owner as it happens: a fence, a key registered again, a dead host recovered.

/// One state change of a mounted datastore, delivered to `DatastoreOptions.eventObserver`.
public enum DatastoreEvent: Sendable, Hashable, CustomStringConvertible {
    /// This host stopped all I/O on the datastore; the reason says why.
    case fenced(String)
    /// A fence that was only the lease running out was lifted: a renewal found the slot untouched.
    case resumed(String)
    /// The target had forgotten this host's reservation key while its slot was still its own.
    case registeredAgain(String)
    /// This host broke a dead host's locks.
    case recovered(HostRecovery)
    /// Used space reached the soft threshold.
    case spaceLow(DatastoreSpace)
    /// Used space fell below the soft threshold again (blocks were freed).
    case spaceRecovered(DatastoreSpace)
    /// An allocation found no free block: writes to unallocated blocks fail until space is freed.
    case outOfSpace(DatastoreSpace)

    public var description: String {
        switch self {
        case .fenced(let reason): "fenced: \(reason)"
        case .registeredAgain(let reason), .resumed(let reason): reason
        case .recovered(let recovery): recovery.description
        case .spaceLow(let space): "soft threshold reached: \(space)"
        case .spaceRecovered(let space): "below the soft threshold again: \(space)"
        case .outOfSpace(let space): "out of space: \(space)"
        }
    }
}
