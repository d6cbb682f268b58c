// Counts per bucket for one histogram kind and one class of I/O.

/// `counts[i]` holds values ≤ `edges[i]` (and > `edges[i-1]`); the last count holds values
/// above every edge.
public struct IOHistogram: Sendable, Hashable {
    public let kind: HistogramKind
    public let edges: [Int64]
    public private(set) var counts: [UInt64]

    public init(_ kind: HistogramKind) {
        self.kind = kind
        self.edges = kind.edges
        self.counts = Array(repeating: 0, count: kind.edges.count + 1)
    }

    /// Saved counts (a sidecar's), one more than the kind has edges.
    init(_ kind: HistogramKind, counts: [UInt64]) {
        precondition(counts.count == kind.edges.count + 1, "a \(kind) histogram has \(kind.edges.count + 1) buckets")
        self.kind = kind
        self.edges = kind.edges
        self.counts = counts
    }

    public var total: UInt64 { counts.reduce(0, +) }

    /// The bucket a value falls in (binary search over the edges).
    public func bucket(of value: Int64) -> Int {
        var low = 0, high = edges.count
        while low < high {
            let middle = (low + high) / 2
            if value <= edges[middle] { high = middle } else { low = middle + 1 }
        }
        return low
    }

    public mutating func record(_ value: Int64) {
        counts[bucket(of: value)] += 1
    }

    /// "≤ 4096" or "> 524288": a bucket's label.
    public func label(_ bucket: Int) -> String {
        bucket < edges.count ? "<= \(edges[bucket])" : "> \(edges[edges.count - 1])"
    }
}
