// The inspection filter: vscsiStats-style histograms and an I/O trace for one disk.

import BlockDevice
import Synchronization

/// Watches every request and changes none. Its failure policy is `bypass`: if it ever breaks,
/// the disk's I/O goes on without it and an alert is raised, since losing statistics cannot
/// change data. Parameters: `collect` (start collecting at once, default true) and
/// `trace_entries` (how many completed I/Os the trace keeps, default 4096, 0 for none).
public final class InspectionFilter: IOFilter {
    public let name = "inspection"
    public let category = FilterCategory.inspection
    public let failurePolicy = FilterFailurePolicy.bypass
    public let operations = Set(FilterOperation.allCases)
    public var answerTimeout: Duration { .seconds(5) }

    private let clock: any FilterClock
    private let recorder: Mutex<InspectionRecorder>

    public static let defaultTraceEntries = 4096

    public init(parameters: FilterParameters, clock: any FilterClock) throws(FilterConfigError) {
        let (collect, entries) = try Self.read(parameters)
        self.clock = clock
        self.recorder = Mutex(InspectionRecorder(collecting: collect, traceCapacity: entries))
    }

    static func read(_ parameters: FilterParameters) throws(FilterConfigError) -> (Bool, Int) {
        var reader = FilterParameterReader(parameters, filter: "inspection")
        let collect = reader.bool("collect") ?? true
        let entries = reader.integer("trace_entries", range: 0...1_048_576) ?? defaultTraceEntries
        reader.finish()
        if let first = reader.errors.first { throw first }
        return (collect, entries)
    }

    public var parameters: FilterParameters {
        recorder.withLock { FilterParameters(["collect": .bool($0.collecting), "trace_entries": .int($0.traceCapacity)]) }
    }

    /// `collect` changes in place (start or stop); the trace's size needs the filter re-added.
    public func update(_ parameters: FilterParameters) throws(FilterConfigError) {
        let (collect, entries) = try Self.read(parameters)
        try recorder.withLock { (recorder: inout InspectionRecorder) throws(FilterConfigError) in
            guard entries == recorder.traceCapacity else {
                throw FilterConfigError(.notChangeable, filter: name, parameter: "trace_entries", "the trace's size is fixed when the filter is added; remove it and add it again")
            }
            if collect { recorder.start() } else { recorder.stop() }
        }
    }

    public func start() { recorder.withLock { $0.start() } }
    public func stop() { recorder.withLock { $0.stop() } }
    public func reset() { recorder.withLock { $0.reset() } }

    /// A copy of the histograms, the collection state and the trace, taken in one lock.
    public var snapshot: InspectionRecorder { recorder.withLock { $0 } }

    public func handle(_ request: FilterRequest, next: FilterNext) async throws -> FilterReply {
        let blockSize = next.geometry.blockSize
        let extent = request.extent(blockSize: blockSize)
        let bytes = request.transferBytes(blockSize: blockSize)
        let token = recorder.withLock {
            $0.arrive(request.operation, lba: extent?.lba ?? 0, blockCount: extent?.blockCount ?? 0, bytes: bytes, now: clock.nanoseconds())
        }
        do {
            let reply = try await next.pass(request)
            recorder.withLock { $0.complete(token, status: "ok", now: clock.nanoseconds()) }
            return reply
        } catch {
            let status = (error as? BlockDeviceError).map { "\($0.code)" } ?? "error"
            recorder.withLock { $0.complete(token, status: status, now: clock.nanoseconds()) }
            throw error
        }
    }
}
