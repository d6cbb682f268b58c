// The inspection filter's bookkeeping as a pure value: what arrives and completes, when.

import NIOCore

/// Histograms for reads, writes and all, the state they need (previous ends, arrivals,
/// outstanding counts) and a bounded trace. Reads are READ; writes are WRITE, WRITE SAME and
/// COMPARE AND WRITE. Flushes, UNMAP and reservation commands enter the trace only.
/// Outstanding counts are kept while collection is stopped, so a start mid-stream is right.
public struct InspectionRecorder: Sendable {
    public struct Token: Sendable {
        /// The class besides `all` the I/O counts in (nil: trace only).
        var ioClass: IOClass?
        var arrived: UInt64
        var operation: FilterOperation
        var lba: UInt64
        var blockCount: Int
    }

    /// What the histograms need to remember of one class of I/O.
    struct ClassState: Sendable {
        var previousEnd: UInt64?
        /// The ends of the last `closestWindow` I/Os, a ring starting at `next`.
        var recentEnds: [UInt64] = []
        var next = 0
        var lastArrival: UInt64?
        var outstanding = 0
    }

    /// Flat storage, so recording one I/O allocates nothing: `kind × 3 + class`.
    private var counts: [IOHistogram]
    private var classes = [ClassState](repeating: ClassState(), count: IOClass.allCases.count)
    public private(set) var collecting: Bool
    public let traceCapacity: Int
    public private(set) var trace = CircularBuffer<IOTraceEntry>()
    static let closestWindow = 16

    public init(collecting: Bool = true, traceCapacity: Int = 4096) {
        self.collecting = collecting
        self.traceCapacity = traceCapacity
        self.counts = Self.emptyHistograms()
        self.trace = CircularBuffer(initialCapacity: min(traceCapacity, 4096))
    }

    /// In `slot` order: kinds as `HistogramKind.allCases` lists them, classes reads, writes, all.
    private static func emptyHistograms() -> [IOHistogram] {
        HistogramKind.allCases.flatMap { kind in [IOClass.reads, .writes, .all].map { _ in IOHistogram(kind) } }
    }

    private static func slot(_ kind: HistogramKind, _ ioClass: IOClass) -> Int {
        let row: Int
        switch kind {
        case .length: row = 0
        case .seek: row = 1
        case .seekClosest: row = 2
        case .outstanding: row = 3
        case .latency: row = 4
        case .interarrival: row = 5
        }
        return row * 3 + index(ioClass)
    }

    private static func index(_ ioClass: IOClass) -> Int {
        switch ioClass {
        case .reads: 0
        case .writes: 1
        case .all: 2
        }
    }

    /// Every histogram, by kind and class (a copy, for readers).
    public var histograms: [HistogramKind: [IOClass: IOHistogram]] {
        Dictionary(uniqueKeysWithValues: HistogramKind.allCases.map { kind in
            (kind, Dictionary(uniqueKeysWithValues: IOClass.allCases.map { ($0, counts[Self.slot(kind, $0)]) }))
        })
    }

    /// Puts saved histograms (a sidecar's) in place of the current ones; a kind or class the
    /// saved ones lack starts empty.
    mutating func restore(_ saved: [HistogramKind: [IOClass: IOHistogram]]) {
        counts = HistogramKind.allCases.flatMap { kind in
            [IOClass.reads, .writes, .all].map { saved[kind]?[$0] ?? IOHistogram(kind) }
        }
    }

    public mutating func start() { collecting = true }
    public mutating func stop() { collecting = false }

    /// Empties the histograms and the trace; collection goes on (or stays stopped).
    public mutating func reset() {
        counts = Self.emptyHistograms()
        trace.removeAll(keepingCapacity: true)
        for index in classes.indices {
            classes[index] = ClassState(outstanding: classes[index].outstanding)
        }
    }

    public mutating func arrive(_ operation: FilterOperation, lba: UInt64, blockCount: Int, bytes: Int, now: UInt64) -> Token {
        let ioClass: IOClass?
        switch operation {
        case .read: ioClass = .reads
        case .write, .writeSame, .compareAndWrite: ioClass = .writes
        case .flush, .unmap, .reservation: ioClass = nil
        }
        if let ioClass {
            arrive(ioClass, lba: lba, blockCount: blockCount, bytes: bytes, now: now)
            arrive(.all, lba: lba, blockCount: blockCount, bytes: bytes, now: now)
        }
        return Token(ioClass: ioClass, arrived: now, operation: operation, lba: lba, blockCount: blockCount)
    }

    private mutating func arrive(_ ioClass: IOClass, lba: UInt64, blockCount: Int, bytes: Int, now: UInt64) {
        let index = Self.index(ioClass)
        classes[index].outstanding += 1
        guard collecting else { return }
        // Element by element, never a copy of the class's state: a copy would copy its ring.
        record(.length, ioClass, Int64(bytes))
        record(.outstanding, ioClass, Int64(classes[index].outstanding))
        if let previous = classes[index].previousEnd {
            record(.seek, ioClass, Self.distance(from: previous, to: lba))
        }
        var closest: Int64?
        for end in classes[index].recentEnds {
            let distance = Self.distance(from: end, to: lba)
            if closest == nil || distance.magnitude < closest!.magnitude { closest = distance }
        }
        if let closest { record(.seekClosest, ioClass, closest) }
        if let last = classes[index].lastArrival {
            record(.interarrival, ioClass, Int64((now &- last) / 1000))
        }
        let end = lba + UInt64(blockCount)
        classes[index].previousEnd = end
        if classes[index].recentEnds.count < Self.closestWindow {
            classes[index].recentEnds.append(end)
        } else {
            let next = classes[index].next
            classes[index].recentEnds[next] = end
            classes[index].next = (next + 1) % Self.closestWindow
        }
        classes[index].lastArrival = now
    }

    public mutating func complete(_ token: Token, status: String, now: UInt64) {
        let latency = Int64((now &- token.arrived) / 1000)
        if let ioClass = token.ioClass {
            for counted in [ioClass, .all] {
                classes[Self.index(counted)].outstanding -= 1
                if collecting { record(.latency, counted, latency) }
            }
        }
        guard collecting, traceCapacity > 0 else { return }
        if trace.count == traceCapacity { trace.removeFirst() }
        trace.append(IOTraceEntry(
            arrivedNanoseconds: token.arrived, operation: token.operation, lba: token.lba,
            blockCount: token.blockCount, latencyMicroseconds: latency, status: status
        ))
    }

    private mutating func record(_ kind: HistogramKind, _ ioClass: IOClass, _ value: Int64) {
        counts[Self.slot(kind, ioClass)].record(value)
    }

    private static func distance(from end: UInt64, to lba: UInt64) -> Int64 {
        lba >= end ? Int64(clamping: lba - end) : -Int64(clamping: end - lba)
    }

    /// The trace as CSV, oldest first, with a header line.
    public var traceCSV: String {
        ([IOTraceEntry.csvHeader] + trace.map(\.csvLine)).joined(separator: "\n") + "\n"
    }
}
