// One `[[disk]]`: a virtual disk opened at start.

/// A virtual disk in a configured datastore, opened with `mode`.
public struct DiskSettings: Sendable, Hashable, Codable {
    public enum Mode: String, Sendable, Hashable, CaseIterable, Codable {
        case exclusive
        case sharedReadOnly = "shared-read-only"
    }

    /// What the daemon does when another host holds the disk's lock (DAEMON.md, "Automatic takeover").
    public enum Takeover: String, Sendable, Hashable, CaseIterable {
        /// Keep trying: wait while the holder's heartbeat moves, take the disk over once it
        /// has stood still for a lease, then start the exports presenting it.
        case auto
        /// Try once at start; a held disk is `failed` until an operator opens it.
        case manual
    }

    public var datastore: String
    public var name: String
    public var mode: Mode = .exclusive
    public var takeover: Takeover = .manual

    public init(datastore: String, name: String) {
        self.datastore = datastore
        self.name = name
    }

    /// How exports refer to this disk: `datastore/name`.
    public var reference: String { "\(datastore)/\(name)" }
}
