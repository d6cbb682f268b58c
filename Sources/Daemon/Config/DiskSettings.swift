// One `[[disk]]`: a virtual disk opened at start.

import Filters

/// A virtual disk in a configured datastore, opened with `mode`.
public struct DiskSettings: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        case exclusive
        case sharedReadOnly = "shared-read-only"
    }

    public var datastore: String
    public var name: String
    public var mode: Mode = .exclusive
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
