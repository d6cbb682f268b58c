// Parameters of a new volume, chosen at format and fixed in its header.

/// Parameters of a new volume.
public struct FormatOptions: Sendable {
    public var label: String
    public var fileBlockSize = VolumeLayout.defaultFileBlockSize
    public var maxHosts = 64
    public var maxDisks = VolumeLayout.defaultMaxDisks
    public var clusterBlocks = VolumeLayout.defaultClusterBlocks
    public var journalUnits = VolumeLayout.defaultJournalUnits
    /// Nil: ATS when the device has COMPARE AND WRITE, reservations otherwise.
    public var lockMode: LockMode?

    public init(label: String) { self.label = label }
}
