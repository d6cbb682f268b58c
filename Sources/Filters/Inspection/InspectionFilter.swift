// The inspection filter: vscsiStats-style histograms and an I/O trace for one disk.

import BlockDevice
import Synchronization

/// Watches every request and changes none. Its failure policy is `bypass`: if it ever breaks,
/// the disk's I/O goes on without it and an alert is raised, since losing statistics cannot
/// change data. Parameters: `collect` (start collecting at once, default true),
/// `trace_entries` (how many completed I/Os the trace keeps, default 4096, 0 for none) and
/// `save_seconds` (how often the cumulative histograms are saved to the disk's sidecar
/// `inspection/histograms`, default 60; 0 saves only when the filter leaves the chain or the
/// disk closes). The histograms are loaded from the sidecar at attach, so they survive a
/// daemon restart and a takeover; the trace is not kept.
public final class InspectionFilter: IOFilter {
    public let name = "inspection"
    public let category = FilterCategory.inspection
    public let failurePolicy = FilterFailurePolicy.bypass
    public let operations = Set(FilterOperation.allCases)
    public var answerTimeout: Duration { .seconds(5) }

    private let clock: any FilterClock
    private let recorder: Mutex<InspectionRecorder>
    private let disk: String
    private let sidecars: (any SidecarStore)?
    private let events: @Sendable (FilterEvent) -> Void
    private let saveSeconds: Int
    private let persistence = Mutex(Persistence())

    /// The sidecar side, apart from the hot path's lock.
    private struct Persistence {
        /// Why the saved histograms could not be loaded: saving stays off (the damaged sidecar
        /// is kept for a person to look at) until `reset`.
        var problem: String?
        /// What the sidecar holds, as far as this filter knows: an unchanged save is skipped.
        var saved: [UInt8]?
        var saveFailing = false
        var saver: Task<Void, Never>?
        /// Set once `attach` looked at the sidecar: a filter that never attached (refused
        /// before it joined a chain) must not save its empty counts over the saved ones.
        var attached = false
    }

    public static let defaultTraceEntries = 4096
    public static let defaultSaveSeconds = 60

    public init(parameters: FilterParameters, clock: any FilterClock, disk: String = "", sidecars: (any SidecarStore)? = nil,
                events: @escaping @Sendable (FilterEvent) -> Void = { _ in }) throws(FilterConfigError) {
        let (collect, entries, saveSeconds) = try Self.read(parameters)
        self.clock = clock
        self.recorder = Mutex(InspectionRecorder(collecting: collect, traceCapacity: entries))
        self.disk = disk
        self.sidecars = sidecars
        self.events = events
        self.saveSeconds = saveSeconds
    }

    static func read(_ parameters: FilterParameters) throws(FilterConfigError) -> (Bool, Int, Int) {
        var reader = FilterParameterReader(parameters, filter: "inspection")
        let collect = reader.bool("collect") ?? true
        let entries = reader.integer("trace_entries", range: 0...1_048_576) ?? defaultTraceEntries
        let saveSeconds = reader.integer("save_seconds", range: 0...86_400) ?? defaultSaveSeconds
        reader.finish()
        if let first = reader.errors.first { throw first }
        return (collect, entries, saveSeconds)
    }

    public var parameters: FilterParameters {
        recorder.withLock {
            FilterParameters(["collect": .bool($0.collecting), "trace_entries": .int($0.traceCapacity), "save_seconds": .int(saveSeconds)])
        }
    }

    /// `collect` changes in place (start or stop); the trace's size and the save interval need
    /// the filter re-added.
    public func update(_ parameters: FilterParameters) throws(FilterConfigError) {
        let (collect, entries, saveSeconds) = try Self.read(parameters)
        guard saveSeconds == self.saveSeconds else {
            throw FilterConfigError(.notChangeable, filter: name, parameter: "save_seconds", "the save interval is fixed when the filter is added; remove it and add it again")
        }
        try recorder.withLock { (recorder: inout InspectionRecorder) throws(FilterConfigError) in
            guard entries == recorder.traceCapacity else {
                throw FilterConfigError(.notChangeable, filter: name, parameter: "trace_entries", "the trace's size is fixed when the filter is added; remove it and add it again")
            }
            if collect { recorder.start() } else { recorder.stop() }
        }
    }

    public func start() { recorder.withLock { $0.start() } }
    public func stop() { recorder.withLock { $0.stop() } }

    /// Empties the histograms and the trace. This is also how a person accepts that a damaged
    /// sidecar is lost: saving starts again and overwrites it.
    public func reset() {
        recorder.withLock { $0.reset() }
        persistence.withLock { $0.problem = nil }
    }

    /// Why the saved histograms could not be loaded, while saving is off because of it.
    public var sidecarProblem: String? { persistence.withLock { $0.problem } }

    /// Loads the saved histograms and starts the periodic save. A damaged or unreadable sidecar
    /// does not stop the disk: it is reported (an event naming the disk, the filter and the
    /// sidecar), kept as it is, and the filter counts from zero in memory without saving
    /// until `reset`, so nothing silently replaces the saved counts.
    public func attach() async throws {
        guard let sidecars else { return }
        do {
            if let bytes = try await sidecars.read(InspectionSidecar.name) {
                let saved = try InspectionSidecar.decode(bytes)
                recorder.withLock { $0.restore(saved) }
                persistence.withLock { $0.saved = bytes }
            }
        } catch {
            let problem = "its saved histograms (sidecar \(InspectionSidecar.name)) could not be loaded: \(error); counting starts from zero in memory, and the sidecar is kept as it is and not saved over until the filter is reset"
            persistence.withLock { $0.problem = problem }
            events(FilterEvent(disk: disk, filter: name, kind: .sidecar(problem)))
        }
        persistence.withLock { $0.attached = true }
        guard saveSeconds > 0 else { return }
        let interval = Duration.seconds(saveSeconds)
        let saver = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled, let filter = self else { return }
                await filter.save()
            }
        }
        persistence.withLock { $0.saver = saver }
    }

    /// Stops the periodic save and saves once more. A save that fails is reported, not
    /// thrown: the chain change or the close goes on.
    public func detach() async throws {
        let saver = persistence.withLock { persistence in
            defer { persistence.saver = nil }
            return persistence.saver
        }
        saver?.cancel()
        await saver?.value
        await save()
    }

    /// Writes the histograms to the sidecar when they changed since the last save.
    func save() async {
        guard let sidecars else { return }
        let (blocked, saved) = persistence.withLock { ($0.problem != nil || !$0.attached, $0.saved) }
        guard !blocked else { return }
        let bytes = InspectionSidecar.encode(recorder.withLock { $0.histograms })
        guard bytes != saved else { return }
        do {
            try await sidecars.write(InspectionSidecar.name, bytes)
            persistence.withLock {
                $0.saved = bytes
                $0.saveFailing = false
            }
        } catch {
            // Once per run of failures: a fenced datastore would otherwise report every interval.
            let first = persistence.withLock { persistence in
                defer { persistence.saveFailing = true }
                return !persistence.saveFailing
            }
            if first {
                events(FilterEvent(disk: disk, filter: name, kind: .sidecar("saving its histograms to sidecar \(InspectionSidecar.name) failed: \(error)")))
            }
        }
    }

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
