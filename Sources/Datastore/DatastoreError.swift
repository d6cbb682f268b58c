// The error every public Datastore API throws: what failed, on which volume, disk or host.

/// A failed datastore operation.
///
/// `code` classifies the failure so callers (and vdiskctl's exit status) can react;
/// `message` names the structure, disk or host involved and what to do about it.
/// I/O on an open ``VirtualDisk`` throws `BlockDeviceError` instead, as any block device does.
public struct DatastoreError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case notFormatted, corrupt, unsupportedVersion, invalidArgument, notFound, alreadyExists
            case locked, noSpace, hostSlotsFull, fenced, notMounted, readOnly, busy, device
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The device holds no datastore (no valid header in either copy).
        public static let notFormatted = Code(.notFormatted)
        /// A structure failed its checksum or a bounds check.
        public static let corrupt = Code(.corrupt)
        /// The volume was written by an incompatible format version.
        public static let unsupportedVersion = Code(.unsupportedVersion)
        public static let invalidArgument = Code(.invalidArgument)
        /// No disk by that name.
        public static let notFound = Code(.notFound)
        public static let alreadyExists = Code(.alreadyExists)
        /// Another live host holds the lock.
        public static let locked = Code(.locked)
        /// No free file blocks or descriptor slots are left.
        public static let noSpace = Code(.noSpace)
        /// Every heartbeat slot is taken by a live host.
        public static let hostSlotsFull = Code(.hostSlotsFull)
        /// This host lost its heartbeat or its generation and stopped all I/O.
        public static let fenced = Code(.fenced)
        public static let notMounted = Code(.notMounted)
        public static let readOnly = Code(.readOnly)
        /// A lock stayed busy past the retry budget; try again.
        public static let busy = Code(.busy)
        /// The block device below failed.
        public static let device = Code(.device)

        public var description: String {
            switch base {
            case .notFormatted: "not formatted"
            case .corrupt: "corrupt metadata"
            case .unsupportedVersion: "unsupported version"
            case .invalidArgument: "invalid argument"
            case .notFound: "not found"
            case .alreadyExists: "already exists"
            case .locked: "locked"
            case .noSpace: "no space"
            case .hostSlotsFull: "host slots full"
            case .fenced: "fenced"
            case .notMounted: "not mounted"
            case .readOnly: "read-only"
            case .busy: "busy"
            case .device: "device error"
            }
        }
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error)?
    /// For `.locked`: who holds the lock, when the refusal knows.
    public var holder: LockHolder?

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil, holder: LockHolder? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
        self.holder = holder
    }

    public var description: String {
        if let underlying { return "\(code): \(message) (\(underlying))" }
        return "\(code): \(message)"
    }
}
