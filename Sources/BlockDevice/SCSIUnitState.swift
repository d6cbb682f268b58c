// What an engine knows of its logical unit, kept the same way by both engines.

/// The probed geometry, capabilities and limits of one logical unit, and whether the engine
/// has closed it; each engine keeps one behind its lock.
public struct SCSIUnitState: Sendable {
    public var geometry = BlockGeometry(blockSize: 512, blockCount: 0)
    public var capabilities: BlockDeviceCapabilities = []
    public var limits = SCSIBlockLimits()
    public var closed = false

    public init() {}

    /// Takes a new READ CAPACITY(16) answer (`SCSIBlockCommands.probeGeometry`).
    public mutating func apply(geometry: BlockGeometry, provisioning: BlockDeviceCapabilities) {
        self.geometry = geometry
        capabilities.formUnion(provisioning)
    }

    /// Takes the open-time probe's result (`SCSIBlockCommands.probeCapabilities`).
    public mutating func apply(limits: SCSIBlockLimits, probed: BlockDeviceCapabilities) {
        capabilities.settle(probed: probed)
        self.limits = limits
    }
}
