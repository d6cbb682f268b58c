// One export put together: its disks become logical units (LUN 0, 1, ...), the units one
// target, and the target an `ExportServer`. `vdiskctl export serve` and vdiskd both build
// their exports here, so the two serve a disk the same way.

import BlockDevice
import ISCSI
import ISCSIAddress
import Logging
import NIOCore
import SCSI
import VSCSI

/// An iSCSI target serving a list of block devices, from start to a drained stop.
public final class ServedExport: Sendable {
    /// A device to present, with what the layer below knows of it.
    public struct Disk: Sendable {
        public var device: any BlockDevice
        public var descriptor: LogicalUnitDescriptor
        /// This unit alone is write-protected (a disk opened read-only).
        public var writeProtected: Bool
        /// Where the unit records its commands' counts and latencies; nil records nothing.
        public var statistics: IOStatistics?

        public init(device: any BlockDevice, descriptor: LogicalUnitDescriptor, writeProtected: Bool = false, statistics: IOStatistics? = nil) {
            self.device = device
            self.descriptor = descriptor
            self.writeProtected = writeProtected
            self.statistics = statistics
        }
    }

    public let target: ExportTarget
    public let server: ExportServer
    private let disks: [Disk]
    private let registry: LogicalUnitRegistry

    /// - Parameters:
    ///   - disks: LUN 0 first. The devices stay the caller's to close.
    ///   - readOnly: every unit is write-protected (writes end in DATA PROTECT).
    ///   - sanitizeBytesPerSecond: paces SANITIZE overwrites (nil: as fast as the device goes).
    ///   - group: listens there; client connections run on the event loop the first iSCSI-backed
    ///     disk completes its I/O on (see `sessionLoop(of:)`), else in `group` too.
    public init(
        iqn: String, access: TargetAccessPolicy, disks: [Disk], readOnly: Bool, sanitizeBytesPerSecond: Int? = nil,
        configuration: ExportConfiguration, group: any EventLoopGroup, logger: Logger
    ) {
        let registry = LogicalUnitRegistry()
        let lunList = disks.indices.compactMap { LUN(number: $0) }
        var units: [Int: LogicalUnit] = [:]
        for (index, disk) in disks.enumerated() {
            units[index] = LogicalUnit.exported(
                disk.device, descriptor: disk.descriptor, readOnly: readOnly || disk.writeProtected,
                transferLimit: configuration.maximumTransferLength, sanitizeBytesPerSecond: sanitizeBytesPerSecond,
                statistics: disk.statistics, registry: registry, reportedLUNs: { lunList }
            )
        }
        self.target = ExportTarget(name: iqn, access: access, units: units)
        self.server = ExportServer(
            targets: [target], configuration: configuration, group: group,
            connectionGroup: Self.sessionLoop(of: disks.map(\.device)), logger: logger
        )
        self.disks = disks
        self.registry = registry
    }

    /// Binds every portal; returns the addresses bound.
    @discardableResult
    public func start() async throws -> [ISCSIEndpoint] {
        try await server.start()
    }

    /// Stops accepting, lets commands in flight finish (up to the drain timeout), logs every
    /// session out, then flushes each device. Every device is flushed even when one fails; the
    /// first failure is thrown. The devices stay open.
    public func stop() async throws {
        await server.shutdown()
        var failure: (any Error)?
        for disk in disks {
            do {
                try await disk.device.flush()
            } catch {
                failure = failure ?? error
            }
        }
        for unit in target.units.values { registry.unregister(unit) }
        if let failure { throw failure }
    }

    /// Tells every initiator of the units over `device` that its capacity changed (it grew).
    public func capacityChanged(of device: any BlockDevice & AnyObject) async {
        for unit in target.units.values where (unit.device as AnyObject) === device {
            await unit.capacityChanged()
        }
    }

    /// The event loop the first of `devices` completes its I/O on (an iSCSI session's), if any.
    /// Client connections run there, so their commands reach that LUN without a thread hop
    /// (docs/BENCHMARKS.md, "Export").
    public static func sessionLoop(of devices: [any BlockDevice]) -> (any EventLoop)? {
        devices.lazy.compactMap { ($0.preferredTaskExecutor as? EventLoopTaskExecutor)?.eventLoop }.first
    }

    /// The sessions logged in right now.
    public var sessions: [ExportSessionInfo] { server.sessions }
}

extension LogicalUnit {
    /// The one place a device becomes an exported logical unit: the limits it advertises
    /// follow the transport's, `readOnly` write-protects it, and `statistics` (when given)
    /// records every data command.
    public static func exported(
        _ device: any BlockDevice, descriptor: LogicalUnitDescriptor, readOnly: Bool, transferLimit: Int,
        sanitizeBytesPerSecond: Int? = nil, statistics: IOStatistics? = nil,
        registry: LogicalUnitRegistry, reportedLUNs: @escaping @Sendable () -> [LUN]
    ) -> LogicalUnit {
        var options = LogicalUnitOptions(writeProtected: readOnly)
        options.sanitizeBytesPerSecond = sanitizeBytesPerSecond
        // The largest command the transport buffers; VPD B0 advertises the same.
        options.limits.maximumTransferLength = UInt32(transferLimit / device.geometry.blockSize)
        // A WRITE SAME holds its whole range locked; the same bound keeps one from stalling I/O for long.
        options.limits.maximumWriteSameLength = UInt64(transferLimit / device.geometry.blockSize)
        // libiscsi's conformance suite holds a target to at most 1 Mi blocks per UNMAP.
        options.limits.maximumUnmapLBACount = 1 << 20
        return LogicalUnit(
            device: device, descriptor: descriptor, options: options, registry: registry,
            reportedLUNs: reportedLUNs, statistics: statistics
        )
    }
}
