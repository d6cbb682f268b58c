// What the multipath layer itself refuses: bad settings, unknown paths, a LUN it cannot open.

/// An error of the multipath layer's own making (its I/O fails with `BlockDeviceError`).
public struct PathsError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable { case invalidArgument, notFound, noPath, wrongLUN }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A setting or request that cannot be right (a policy name, a zero interval).
        public static let invalidArgument = Code(.invalidArgument)
        /// No path of that name.
        public static let notFound = Code(.notFound)
        /// No path could be opened.
        public static let noPath = Code(.noPath)
        /// A path reaches a different logical unit than the others.
        public static let wrongLUN = Code(.wrongLUN)

        public var description: String {
            switch base {
            case .invalidArgument: "invalid argument"
            case .notFound: "not found"
            case .noPath: "no path"
            case .wrongLUN: "wrong LUN"
            }
        }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
