// How full a datastore is, as its space events report it.

/// Free and total data bytes of a datastore, and the soft threshold in force.
public struct DatastoreSpace: Sendable, Hashable, CustomStringConvertible {
    public var freeBytes: UInt64
    public var totalBytes: UInt64
    /// The soft threshold (percent used), nil when none is set.
    public var thresholdPercent: Int?

    public var usedPercent: Int {
        totalBytes == 0 ? 100 : Int((totalBytes - min(freeBytes, totalBytes)) * 100 / totalBytes)
    }

    public var description: String {
        let threshold = thresholdPercent.map { "; soft threshold \($0) %" } ?? ""
        return "\(usedPercent) % used, \(freeBytes) of \(totalBytes) bytes free\(threshold)"
    }
}
