// A SCSI logical unit emulated over a BlockDevice: the object the export hands every
// command of a LUN to. Commands from any nexus may run concurrently.

import BlockDevice
import NIOConcurrencyHelpers
import NIOCore
import SCSI

/// A direct-access logical unit (SBC-4) over a block device.
///
/// `execute(_:)` runs one command and never throws: every failure becomes a status
/// and sense data. Mutable state (reservations, unit attentions, mode pages) sits
/// behind one lock taken briefly per command; reads and writes of different ranges
/// never wait for each other, while overlapping ones are ordered by a range lock
/// table so COMPARE AND WRITE, ORWRITE and WRITE ATOMIC are atomic.
public final class LogicalUnit: Sendable {
    public let device: any BlockDevice
    public let identity: LogicalUnitIdentity
    public let options: LogicalUnitOptions
    /// Whether the unit reports itself thin (LBPME) and offers UNMAP.
    public let isThin: Bool

    let state = NIOLockedValueBox(LogicalUnitState())
    let rangeLocks = RangeLockTable()
    let registry: LogicalUnitRegistry?
    let reportedLUNs: @Sendable () -> [LUN]
    /// Where every data command is counted; nil counts nothing and costs nothing.
    public let statistics: IOStatistics?

    /// - Parameters:
    ///   - registry: where EXTENDED COPY finds other units; the unit registers itself.
    ///   - reportedLUNs: the export's LUN list, for REPORT LUNS.
    ///   - statistics: counts each data command (reads, writes, the rest) with its latency.
    public init(
        device: any BlockDevice,
        identity: LogicalUnitIdentity,
        options: LogicalUnitOptions = LogicalUnitOptions(),
        registry: LogicalUnitRegistry? = nil,
        reportedLUNs: @escaping @Sendable () -> [LUN] = { [LUN(rawValue: 0)] },
        statistics: IOStatistics? = nil
    ) {
        self.device = device
        self.identity = identity
        self.options = options
        self.isThin = options.thinProvisioned ?? device.capabilities.contains(.unmap)
        self.registry = registry
        self.reportedLUNs = reportedLUNs
        self.statistics = statistics
        registry?.register(self)
    }

    /// A unit for a disk the layer below described: its UUID, name and provisioning.
    public convenience init(
        device: any BlockDevice,
        descriptor: LogicalUnitDescriptor,
        options: LogicalUnitOptions = LogicalUnitOptions(),
        registry: LogicalUnitRegistry? = nil,
        reportedLUNs: @escaping @Sendable () -> [LUN] = { [LUN(rawValue: 0)] },
        statistics: IOStatistics? = nil
    ) {
        var options = options
        options.thinProvisioned = options.thinProvisioned ?? descriptor.isThin
        self.init(
            device: device, identity: LogicalUnitIdentity(descriptor), options: options,
            registry: registry, reportedLUNs: reportedLUNs, statistics: statistics
        )
    }

    /// LBPRZ: deallocated blocks read back as zeros.
    var unmappedReadsZero: Bool { device.capabilities.contains(.unmappedReadsZero) }

    /// The device's current geometry.
    var geometry: BlockGeometry { device.geometry }

    /// Tells every nexus the capacity changed (after the disk grew): the geometry is
    /// read again and CAPACITY DATA HAS CHANGED is queued for each nexus seen so far.
    public func capacityChanged() async {
        _ = try? await device.refreshGeometry()
        state.withLockedValue { $0.queueUnitAttentionForAll(.capacityDataHasChanged) }
    }

    /// Runs `body` under the state lock and throws the failure it returns, if any, once unlocked.
    func withState<T>(_ body: (inout LogicalUnitState) -> Result<T, CommandFailure>) throws(CommandFailure) -> T {
        try state.withLockedValue(body).get()
    }

    /// Unit attentions waiting for `nexus`, oldest first (diagnostics and tests).
    public func pendingUnitAttentions(for nexus: Nexus) -> [AdditionalSenseCode] {
        state.withLockedValue { $0.unitAttentions[nexus] ?? [] }
    }
}
