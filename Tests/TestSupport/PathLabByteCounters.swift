// What a host interface of a path lab has carried, from the kernel's own counters
// (`ip -s -j link show`): the evidence that traffic took a given link.

public struct PathLabByteCounters: Hashable, Sendable, CustomStringConvertible {
    public var receivedBytes: UInt64
    public var transmittedBytes: UInt64
    public var receivedPackets: UInt64
    public var transmittedPackets: UInt64

    public init(receivedBytes: UInt64, transmittedBytes: UInt64, receivedPackets: UInt64, transmittedPackets: UInt64) {
        self.receivedBytes = receivedBytes
        self.transmittedBytes = transmittedBytes
        self.receivedPackets = receivedPackets
        self.transmittedPackets = transmittedPackets
    }

    /// Both directions' bytes.
    public var totalBytes: UInt64 {
        receivedBytes + transmittedBytes
    }

    /// What was carried between `earlier` and these counters (counters only grow while the
    /// interface exists; a wrap or reset reads as zero).
    public func growth(since earlier: PathLabByteCounters) -> PathLabByteCounters {
        PathLabByteCounters(
            receivedBytes: receivedBytes >= earlier.receivedBytes ? receivedBytes - earlier.receivedBytes : 0,
            transmittedBytes: transmittedBytes >= earlier.transmittedBytes ? transmittedBytes - earlier.transmittedBytes : 0,
            receivedPackets: receivedPackets >= earlier.receivedPackets ? receivedPackets - earlier.receivedPackets : 0,
            transmittedPackets: transmittedPackets >= earlier.transmittedPackets ? transmittedPackets - earlier.transmittedPackets : 0
        )
    }

    public var description: String {
        "rx \(receivedBytes) B / \(receivedPackets) packets, tx \(transmittedBytes) B / \(transmittedPackets) packets"
    }
}
