// One `[[disk]]`: a virtual disk opened at start.

import Filters

/// A virtual disk in a configured datastore, opened with `mode`.
public struct DiskSettings: Sendable, Hashable, Codable {
    public enum Mode: String, Sendable, Hashable, CaseIterable, Codable {
        case exclusive
        case sharedReadOnly = "shared-read-only"
    }

    /// What the daemon does when another host holds the disk's lock (DAEMON.md, "Automatic takeover").
    public enum Takeover: String, Sendable, Hashable, CaseIterable, Codable {
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
    /// The disk's filter chain from the client down, as plain values (`filters = [...]`).
    /// nil (no `filters` key) opens the disk with no chain at all, not even an empty one, so it
    /// costs nothing; such a disk cannot take filters live. `[]` is an empty chain that can.
    public var filters: [FilterSpec]?

    public init(datastore: String, name: String) {
        self.datastore = datastore
        self.name = name
    }

    /// How exports refer to this disk: `datastore/name`.
    public var reference: String { "\(datastore)/\(name)" }
}
