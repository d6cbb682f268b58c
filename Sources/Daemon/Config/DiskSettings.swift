// One `[[disk]]`: a virtual disk opened at start.

/// A virtual disk in a configured datastore, opened with `mode`.
public struct DiskSettings: Sendable, Hashable, Codable {
    public enum Mode: String, Sendable, Hashable, CaseIterable, Codable {
        case exclusive
        case sharedReadOnly = "shared-read-only"
    }

    public var datastore: String
    public var name: String
    public var mode: Mode = .exclusive

    public init(datastore: String, name: String) {
        self.datastore = datastore
        self.name = name
    }

    /// How exports refer to this disk: `datastore/name`.
    public var reference: String { "\(datastore)/\(name)" }
}
