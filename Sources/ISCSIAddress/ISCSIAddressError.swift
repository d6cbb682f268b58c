// Why an iSCSI address or target URL could not be parsed, naming the part that was wrong.

/// A malformed endpoint ("HOST[:PORT]") or target URL: the input (secrets removed), the
/// part that was wrong, and why.
public struct ISCSIAddressError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The part of the input that was wrong.
    public enum Part: Sendable, Hashable, CustomStringConvertible {
        case scheme
        case host
        case port
        /// The target's iSCSI name.
        case targetName
        case lun
        /// The CHAP user name or secret before '@'.
        case credentials
        /// A `?key=value` argument, by its key.
        case query(String)
        /// A connection's source address or interface (`ConnectionSource`).
        case source

        public var description: String {
            switch self {
            case .scheme: "scheme"
            case .host: "host"
            case .port: "port"
            case .targetName: "target IQN"
            case .lun: "LUN"
            case .credentials: "user/password"
            case .query(let key): "query key '\(key)'"
            case .source: "connection source"
            }
        }
    }

    /// The input with any secret replaced by "***".
    public var input: String
    public var part: Part
    public var reason: String

    public init(input: String, part: Part, reason: String) {
        self.input = input
        self.part = part
        self.reason = reason
    }

    public var description: String { "bad \(part) in '\(input)': \(reason)" }
}
