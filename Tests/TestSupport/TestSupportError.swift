// The one error the test harness throws: what failed, on which object, and
// what to do about it, so a red integration test explains itself.

public struct TestSupportError: Error, CustomStringConvertible, Sendable {
    /// Extensible error kind; match on it rather than on message text.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case toolMissing
            case invalidConfiguration
            case commandFailed
            case commandTimedOut
            case startFailed
            case systemCallFailed
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A program the harness needs is not installed.
        public static let toolMissing = Code(.toolMissing)
        /// The test asked for something the target cannot serve.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// A helper command exited unsuccessfully.
        public static let commandFailed = Code(.commandFailed)
        /// A helper command did not finish within its time limit and was killed.
        public static let commandTimedOut = Code(.commandTimedOut)
        /// A target daemon did not come up.
        public static let startFailed = Code(.startFailed)
        /// A system call the harness relies on failed.
        public static let systemCallFailed = Code(.systemCallFailed)

        public var description: String {
            base.rawValue
        }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String {
        "TestSupportError.\(code): \(message)"
    }
}
