// What `datastore check` found, and what `--repair` did about it.

/// The outcome of ``Datastore/check(repair:)``.
public struct CheckReport: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case badChecksum, badHeader, leakedBlock, doubleAllocated, referencedButFree, orphan
        case countMismatch, pendingJournal, duplicateName, badSidecar
    }

    public struct Issue: Sendable, Hashable, Codable, CustomStringConvertible {
        public var kind: Kind
        public var message: String
        public var description: String { "\(kind.rawValue): \(message)" }
    }

    public var issues: [Issue] = []
    /// One line per change `--repair` made.
    public var repairs: [String] = []
    /// Other live hosts were mounted: in-flight changes may show as transient issues.
    public var otherHostsLive = false

    public var isClean: Bool { issues.isEmpty }

    mutating func add(_ kind: Kind, _ message: String) {
        issues.append(Issue(kind: kind, message: message))
    }
}
