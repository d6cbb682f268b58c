// How an engine's open-time probe changes the capabilities it already held.

extension BlockDeviceCapabilities {
    /// Adds what the probe found; UNMAP, which READ CAPACITY(16)'s LBPME first suggested,
    /// stays only if the probe's limits and provisioning page confirmed it.
    public mutating func settle(probed: BlockDeviceCapabilities) {
        formUnion(probed)
        if !probed.contains(.unmap) { remove(.unmap) }
    }
}
