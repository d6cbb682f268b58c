// Operation, byte and error totals for one class of command.

/// Totals kept by `IOStatistics`; bytes count only commands that ended with GOOD status.
public struct IOCounts: Sendable, Hashable {
    public var operations: UInt64 = 0
    public var bytes: UInt64 = 0
    /// Commands that ended with any status other than GOOD.
    public var errors: UInt64 = 0

    public init(operations: UInt64 = 0, bytes: UInt64 = 0, errors: UInt64 = 0) {
        self.operations = operations
        self.bytes = bytes
        self.errors = errors
    }

    /// What happened between `earlier` and `self`.
    public func subtracting(_ earlier: IOCounts) -> IOCounts {
        IOCounts(operations: operations - earlier.operations, bytes: bytes - earlier.bytes, errors: errors - earlier.errors)
    }

    /// Operations and bytes per second over `duration`; zero over an empty duration.
    public func rate(over duration: Duration) -> IORate {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        guard seconds > 0 else { return IORate(operationsPerSecond: 0, bytesPerSecond: 0) }
        return IORate(operationsPerSecond: Double(operations) / seconds, bytesPerSecond: Double(bytes) / seconds)
    }
}

/// IOPS and throughput over some stretch of time.
public struct IORate: Sendable, Hashable {
    public var operationsPerSecond: Double
    public var bytesPerSecond: Double

    public init(operationsPerSecond: Double, bytesPerSecond: Double) {
        self.operationsPerSecond = operationsPerSecond
        self.bytesPerSecond = bytesPerSecond
    }

    /// Decimal megabytes (10^6 bytes) per second, as storage throughput is usually quoted.
    public var megabytesPerSecond: Double { bytesPerSecond / 1_000_000 }
}
