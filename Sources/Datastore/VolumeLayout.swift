// Fixed sizes of the on-disk format (docs/FORMAT.md, "Units and alignment").

/// Constants every structure of format version 1 shares.
enum VolumeLayout {
    /// Every metadata structure starts on and fills whole units.
    static let unitSize = 4096
    /// Lock and heartbeat records use the first 512 bytes of their lock sector.
    static let recordSize = 512
    /// Where the CRC32C sits in a 512-byte record and in a 4096-byte unit.
    static let recordCRCOffset = 508
    static let unitCRCOffset = 4092
    static let majorVersion: UInt16 = 1
    /// 1.1 added sidecars (a descriptor field in former reserved space, and sidecar blocks).
    static let minorVersion: UInt16 = 1
    static let sidecarMinorVersion: UInt16 = 1
    static let minimumFileBlockSize = 64 << 10
    static let maximumFileBlockSize = 16 << 20
    static let defaultFileBlockSize = 1 << 20
    static let maximumHosts = 64
    /// The largest logical size of one disk: 64 TiB.
    static let maximumDiskSize: UInt64 = 1 << 46
    static let directPointers = 256
    static let singleIndirectPointers = 128
    static let doubleIndirectPointers = 32
    static let pointersPerPage = 509
    /// Bits that fit in a bitmap unit after its header.
    static let maximumClusterBlocks = 4060 * 8
    static let defaultClusterBlocks = 1024
    static let defaultJournalUnits = 64
    /// A transaction commits once it holds `capacity − 8` images (room for the largest
    /// single step), so a journal needs at least 11 units; 16 leaves a useful batch.
    static let minimumJournalUnits = 16
    static let maximumJournalUnits = 256
    static let defaultMaxDisks = 512
}
