// One key=value pair of an iSCSI text data segment (RFC 7143 §6.1), the unit that
// login, text negotiation and SendTargets answers are made of.

/// A `key=value` pair as it appears, NUL-terminated, in a Login or Text data segment.
///
/// Order matters (SendTargets answers pair each `TargetAddress` with the
/// `TargetName` before it), so text is handled as an ordered `[TextKeyValue]`
/// rather than a dictionary, and duplicates survive parsing.
public struct TextKeyValue: Sendable, Hashable, CustomStringConvertible {
    public var key: String
    public var value: String

    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }

    public var description: String { "\(key)=\(value)" }
}
