// How a logical unit presents its disk: thin or not, write-protected or not, limits.

/// Presentation choices made by whoever exports the disk.
public struct LogicalUnitOptions: Sendable, Hashable {
    /// Report the disk as thin (LBPME, the provisioning page, UNMAP). Nil: take it
    /// from the descriptor, or from the device's UNMAP capability without one.
    public var thinProvisioned: Bool?
    /// Refuse every command that would change the medium with DATA PROTECT.
    public var writeProtected: Bool
    public var limits: LogicalUnitLimits

    public init(thinProvisioned: Bool? = nil, writeProtected: Bool = false, limits: LogicalUnitLimits = LogicalUnitLimits()) {
        self.thinProvisioned = thinProvisioned
        self.writeProtected = writeProtected
        self.limits = limits
    }
}
