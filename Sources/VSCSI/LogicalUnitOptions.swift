// How a logical unit presents its disk: thin or not, write-protected or not, limits.

/// Presentation choices made by whoever exports the disk.
public struct LogicalUnitOptions: Sendable, Hashable {
    /// Report the disk as thin (LBPME, the provisioning page, UNMAP). Nil: take it
    /// from the descriptor, or from the device's UNMAP capability without one.
    public var thinProvisioned: Bool?
    /// Refuse every command that would change the medium with DATA PROTECT.
    public var writeProtected: Bool
    public var limits: LogicalUnitLimits
    /// Bytes per physical block, a power of two: READ CAPACITY(16) reports it as
    /// LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT and VPD B0 as the optimal transfer and
    /// unmap granularity. 4096 by default, what the LUNs under a datastore and most disks
    /// write in; no larger than the logical block means one logical block per physical block.
    public var physicalBlockSize: Int
    /// The most bytes of medium a background SANITIZE overwrites or erases per second, so
    /// one disk's sanitize leaves the LUN below to the other disks; nil: as fast as it goes.
    public var sanitizeBytesPerSecond: Int?

    public init(
        thinProvisioned: Bool? = nil, writeProtected: Bool = false,
        limits: LogicalUnitLimits = LogicalUnitLimits(), physicalBlockSize: Int = 4096,
        sanitizeBytesPerSecond: Int? = nil
    ) {
        self.thinProvisioned = thinProvisioned
        self.writeProtected = writeProtected
        self.limits = limits
        self.physicalBlockSize = physicalBlockSize
        self.sanitizeBytesPerSecond = sanitizeBytesPerSecond
    }
}
