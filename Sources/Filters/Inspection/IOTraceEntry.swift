// One completed I/O in the inspection filter's trace.

/// What the trace keeps of one I/O; `csvLine` is how a dump writes it.
public struct IOTraceEntry: Sendable, Hashable {
    /// When the I/O arrived, in nanoseconds on the filter's clock.
    public var arrivedNanoseconds: UInt64
    public var operation: FilterOperation
    public var lba: UInt64
    public var blockCount: Int
    public var latencyMicroseconds: Int64
    /// "ok", or the `BlockDeviceError` code the I/O failed with.
    public var status: String

    public static let csvHeader = "time_ns,op,lba,blocks,latency_us,status"

    public var csvLine: String {
        "\(arrivedNanoseconds),\(operation),\(lba),\(blockCount),\(latencyMicroseconds),\(String(status.map { $0 == "," ? ";" : $0 }))"
    }
}
