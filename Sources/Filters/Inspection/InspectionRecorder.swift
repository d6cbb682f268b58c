// The inspection filter's bookkeeping as a pure value: what arrives and completes, when.

import NIOCore

/// Histograms for reads, writes and all, the state they need (previous ends, arrivals,
/// outstanding counts) and a bounded trace. Reads are READ; writes are WRITE, WRITE SAME and
/// COMPARE AND WRITE. Flushes, UNMAP and reservation commands enter the trace only.
/// Outstanding counts are kept while collection is stopped, so a start mid-stream is right.
public struct InspectionRecorder: Sendable {
    public struct Token: Sendable {
        var classes: [IOClass]
        var arrived: UInt64
        var operation: FilterOperation
        var lba: UInt64
        var blockCount: Int
    }

    public private(set) var histograms: [HistogramKind: [IOClass: IOHistogram]]
    public private(set) var collecting: Bool
    public let traceCapacity: Int
    public private(set) var trace = CircularBuffer<IOTraceEntry>()
    private var previousEnd: [IOClass: UInt64] = [:]
    private var recentEnds: [IOClass: [UInt64]] = [:]
    private var lastArrival: [IOClass: UInt64] = [:]
    private var outstanding: [IOClass: Int] = [:]
    static let closestWindow = 16

    public init(collecting: Bool = true, traceCapacity: Int = 4096) {
        self.collecting = collecting
        self.traceCapacity = traceCapacity
        self.histograms = Self.emptyHistograms()
        self.trace = CircularBuffer(initialCapacity: min(traceCapacity, 4096))
    }

    private static func emptyHistograms() -> [HistogramKind: [IOClass: IOHistogram]] {
        Dictionary(uniqueKeysWithValues: HistogramKind.allCases.map { kind in
            (kind, Dictionary(uniqueKeysWithValues: IOClass.allCases.map { ($0, IOHistogram(kind)) }))
        })
    }

    public mutating func start() { collecting = true }
    public mutating func stop() { collecting = false }

    /// Empties the histograms and the trace; collection goes on (or stays stopped).
    public mutating func reset() {
        histograms = Self.emptyHistograms()
        trace.removeAll(keepingCapacity: true)
        previousEnd = [:]
        recentEnds = [:]
        lastArrival = [:]
    }

    public mutating func arrive(_ operation: FilterOperation, lba: UInt64, blockCount: Int, bytes: Int, now: UInt64) -> Token {
        let classes: [IOClass]
        switch operation {
        case .read: classes = [.reads, .all]
        case .write, .writeSame, .compareAndWrite: classes = [.writes, .all]
        case .flush, .unmap, .reservation: classes = []
        }
        for ioClass in classes {
            outstanding[ioClass, default: 0] += 1
            guard collecting else { continue }
            record(.length, ioClass, Int64(bytes))
            record(.outstanding, ioClass, Int64(outstanding[ioClass]!))
            if let previous = previousEnd[ioClass] {
                record(.seek, ioClass, Self.distance(from: previous, to: lba))
            }
            if let ends = recentEnds[ioClass], !ends.isEmpty {
                let closest = ends.map { Self.distance(from: $0, to: lba) }.min { $0.magnitude < $1.magnitude }!
                record(.seekClosest, ioClass, closest)
            }
            if let last = lastArrival[ioClass] {
                record(.interarrival, ioClass, Int64((now &- last) / 1000))
            }
            let end = lba + UInt64(blockCount)
            previousEnd[ioClass] = end
            var ends = recentEnds[ioClass] ?? []
            if ends.count == Self.closestWindow { ends.removeFirst() }
            ends.append(end)
            recentEnds[ioClass] = ends
            lastArrival[ioClass] = now
        }
        return Token(classes: classes, arrived: now, operation: operation, lba: lba, blockCount: blockCount)
    }

    public mutating func complete(_ token: Token, status: String, now: UInt64) {
        let latency = Int64((now &- token.arrived) / 1000)
        for ioClass in token.classes {
            outstanding[ioClass, default: 1] -= 1
            if collecting { record(.latency, ioClass, latency) }
        }
        guard collecting, traceCapacity > 0 else { return }
        if trace.count == traceCapacity { trace.removeFirst() }
        trace.append(IOTraceEntry(
            arrivedNanoseconds: token.arrived, operation: token.operation, lba: token.lba,
            blockCount: token.blockCount, latencyMicroseconds: latency, status: status
        ))
    }

    private mutating func record(_ kind: HistogramKind, _ ioClass: IOClass, _ value: Int64) {
        histograms[kind]![ioClass]!.record(value)
    }

    private static func distance(from end: UInt64, to lba: UInt64) -> Int64 {
        lba >= end ? Int64(clamping: lba - end) : -Int64(clamping: end - lba)
    }

    /// The trace as CSV, oldest first, with a header line.
    public var traceCSV: String {
        ([IOTraceEntry.csvHeader] + trace.map(\.csvLine)).joined(separator: "\n") + "\n"
    }
}
