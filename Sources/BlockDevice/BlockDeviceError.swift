// The one error type a BlockDevice throws, whatever engine sits behind it.

/// A failed block device operation.
///
/// `code` says what class of failure it was, so callers can react (retry,
/// report a conflict, fence); `message` says what failed and on which object.
public struct BlockDeviceError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case outOfRange, invalidArgument, notSupported, miscompare, reservationConflict
            case mediumError, readOnly, busy, transport, timeout, closed, fenced, deviceError, noSpace, deviceLost
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The request addressed blocks past the end of the device.
        public static let outOfRange = Code(.outOfRange)
        /// The request was malformed (a buffer not a multiple of the block size, ...).
        public static let invalidArgument = Code(.invalidArgument)
        /// The device does not implement this operation.
        public static let notSupported = Code(.notSupported)
        /// COMPARE AND WRITE found different data; nothing was written.
        public static let miscompare = Code(.miscompare)
        /// Another initiator holds a reservation that forbids this access.
        public static let reservationConflict = Code(.reservationConflict)
        /// The medium could not read or write the blocks.
        public static let mediumError = Code(.mediumError)
        /// The device or the access mode does not allow writes.
        public static let readOnly = Code(.readOnly)
        /// The device asked to retry later (BUSY, TASK SET FULL).
        public static let busy = Code(.busy)
        /// The path to the device failed (connection lost, protocol error).
        public static let transport = Code(.transport)
        /// The device did not answer in time.
        public static let timeout = Code(.timeout)
        /// The device was closed.
        public static let closed = Code(.closed)
        /// I/O was stopped to protect data (lost heartbeat, lost lock).
        public static let fenced = Code(.fenced)
        /// Any other failure reported by the device.
        public static let deviceError = Code(.deviceError)
        /// A thin-provisioned store has no space left for the blocks this write needs.
        public static let noSpace = Code(.noSpace)
        /// The logical unit is gone for good on every path (permanent device loss, PDL):
        /// it must be opened again once it is back, never retried in place.
        public static let deviceLost = Code(.deviceLost)

        public var description: String {
            switch base {
            case .outOfRange: "out of range"
            case .invalidArgument: "invalid argument"
            case .notSupported: "not supported"
            case .miscompare: "miscompare"
            case .reservationConflict: "reservation conflict"
            case .mediumError: "medium error"
            case .readOnly: "read-only"
            case .busy: "busy"
            case .transport: "transport failure"
            case .timeout: "timeout"
            case .closed: "closed"
            case .fenced: "fenced"
            case .deviceError: "device error"
            case .noSpace: "no space"
            case .deviceLost: "device lost"
            }
        }
    }

    public var code: Code
    public var message: String
    /// For `.miscompare`: the byte offset of the first difference, when the device reported it.
    public var miscompareOffset: Int?
    /// The lower-level error this one wraps, if any.
    public var underlying: (any Error)?

    public init(_ code: Code, _ message: String, miscompareOffset: Int? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.miscompareOffset = miscompareOffset
        self.underlying = underlying
    }

    public var description: String {
        if let underlying {
            return "\(code): \(message) (\(underlying))"
        }
        return "\(code): \(message)"
    }
}
