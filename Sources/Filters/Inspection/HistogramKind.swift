// The histograms the inspection filter keeps, after ESXi's vscsiStats, and their bucket edges.

/// One kind of histogram. Each bucket counts values up to and including its edge; a last
/// bucket counts everything above the last edge. The edges are vscsiStats' own (as its
/// `-p` output prints them in ESXi 4 to 8), so histograms compare with ESXi's side by side.
public enum HistogramKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Bytes per I/O.
    case length
    /// Logical blocks from the end of the previous I/O to the start of this one (0: sequential;
    /// negative: backwards).
    case seek
    /// The same distance, to whichever of the previous 16 I/Os ends closest to this one's start.
    case seekClosest = "seek-closest"
    /// I/Os outstanding at the filter when this one arrived, itself included.
    case outstanding
    /// Microseconds from arrival at the filter to completion.
    case latency
    /// Microseconds since the previous I/O of the same class arrived.
    case interarrival

    public var description: String { rawValue }

    /// What the values count, for a chart's axis.
    public var unit: String {
        switch self {
        case .length: "bytes"
        case .seek, .seekClosest: "blocks"
        case .outstanding: "I/Os"
        case .latency, .interarrival: "microseconds"
        }
    }

    /// The upper edges of the buckets (inclusive), ascending.
    public var edges: [Int64] {
        switch self {
        case .length:
            [512, 1024, 2048, 4095, 4096, 8191, 8192, 16383, 16384, 32768, 49152, 65535, 65536, 81920, 131_072, 262_144, 524_288]
        case .seek, .seekClosest:
            [-500_000, -100_000, -50000, -10000, -5000, -1000, -500, -128, -64, -32, -16, -8, -6, -4, -2, -1,
             0, 1, 2, 4, 6, 8, 16, 32, 64, 128, 500, 1000, 5000, 10000, 50000, 100_000, 500_000]
        case .outstanding:
            [1, 2, 4, 6, 8, 12, 16, 20, 24, 28, 32, 64]
        case .latency, .interarrival:
            [1, 10, 100, 500, 1000, 5000, 15000, 30000, 50000, 100_000]
        }
    }
}

/// Which I/Os a histogram counts.
public enum IOClass: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case reads, writes, all

    public var description: String { rawValue }
}
