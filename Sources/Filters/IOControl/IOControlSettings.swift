// An ioControl filter's parameters, read and checked: per-disk limits and bursts, and the
// disk's shares and reservation in its host's scheduler.

/// What `filters = [{ name = "ioControl", ... }]` says. Limits are QEMU's: `iops`, `iops_read`,
/// `iops_write`, `bps`, `bps_read`, `bps_write`, each with `_max` (burst rate) and
/// `_max_length` (burst seconds), and `iops_size` (an I/O of n × iops_size bytes counts n).
/// Shares and reservation are mClock's (ESXi SIOC): `shares` (default 1000) weighs this disk
/// against the others of its host under contention; `reservation` (IOPS) is a floor.
public struct IOControlSettings: Sendable, Hashable {
    public enum Limit: String, Sendable, CaseIterable {
        case iops, iopsRead = "iops_read", iopsWrite = "iops_write"
        case bps, bpsRead = "bps_read", bpsWrite = "bps_write"

        var countsBytes: Bool { self == .bps || self == .bpsRead || self == .bpsWrite }
    }

    public var limits: [Limit: ThrottleBucket] = [:]
    public var iopsSize: Int?
    public var shares: Double = 1000
    public var reservation: Double = 0

    public static let defaultShares: Double = 1000
    static let parameterLimit: Double = 1e12

    public init() {}

    /// Reads `parameters`, collecting every problem. QEMU's rules hold: a total limit excludes
    /// its read and write ones, a `_max` needs its average and may not be below it, and a
    /// `_max_length` needs its `_max`.
    public init(_ parameters: FilterParameters, reader: inout FilterParameterReader) {
        for limit in Limit.allCases {
            let name = limit.rawValue
            let average = reader.positive(name, maximum: Self.parameterLimit)
            let maximum = reader.positive("\(name)_max", maximum: Self.parameterLimit)
            let length = reader.positive("\(name)_max_length", maximum: 86_400)
            if maximum != nil && average == nil {
                reader.fail("\(name)_max", "needs \(name) (the average the burst returns to)")
            }
            if length != nil && maximum == nil {
                reader.fail("\(name)_max_length", "needs \(name)_max (the burst rate)")
            }
            if let average, let maximum, maximum < average {
                reader.fail("\(name)_max", "\(Self.format(maximum)) is below \(name) (\(Self.format(average))); a burst rate is at least the average")
            }
            if let average {
                limits[limit] = ThrottleBucket(average: average, maximum: maximum.flatMap { $0 >= average ? $0 : nil }, burstSeconds: length ?? 1)
            }
        }
        for (total, parts) in [(Limit.iops, [Limit.iopsRead, .iopsWrite]), (.bps, [.bpsRead, .bpsWrite])] where limits[total] != nil {
            for part in parts where limits[part] != nil {
                reader.fail(part.rawValue, "cannot be set together with \(total.rawValue) (a total limit covers reads and writes)")
            }
        }
        iopsSize = reader.integer("iops_size", range: 512...(64 << 20))
        if iopsSize != nil && limits[.iops] == nil && limits[.iopsRead] == nil && limits[.iopsWrite] == nil {
            reader.fail("iops_size", "counts I/Os against an IOPS limit; set iops, iops_read or iops_write too")
        }
        if let shares = reader.positive("shares", maximum: 1_000_000) { self.shares = shares }
        if let reservation = reader.nonNegative("reservation", maximum: Self.parameterLimit) { self.reservation = reservation }
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    /// The parameters as a config would write them.
    public var parameters: FilterParameters {
        var parameters = FilterParameters()
        func number(_ value: Double) -> FilterParameterValue { value == value.rounded() ? .int(Int(value)) : .double(value) }
        for (limit, bucket) in limits {
            parameters[limit.rawValue] = number(bucket.average)
            if let maximum = bucket.maximum {
                parameters["\(limit.rawValue)_max"] = number(maximum)
                parameters["\(limit.rawValue)_max_length"] = number(bucket.burstSeconds)
            }
        }
        if let iopsSize { parameters["iops_size"] = .int(iopsSize) }
        parameters["shares"] = number(shares)
        if reservation > 0 { parameters["reservation"] = number(reservation) }
        return parameters
    }
}
