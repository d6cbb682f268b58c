// A disk seen through its filter chain: the BlockDevice VSCSI talks to, which runs each
// request down the chain in force and swaps chains live between quiesced I/O.

import BlockDevice
import NIOCore
import SCSI
import Synchronization

/// The device an export presents for a disk with a chain. Requests run down the chain that was
/// in force when they were admitted; `replaceChain` quiesces (new requests wait, requests inside
/// finish), swaps, and resumes, so client sessions and the disk stay open across a change.
///
/// With an empty chain a request costs one lock round trip and goes straight to `base`. With
/// filters, each request runs in a task of its own so a filter that never answers can be timed
/// out (the client gets its error; the stuck task is left behind, see docs/FILTERS.md).
public final class FilteredBlockDevice: BlockDevice {
    struct State {
        var runner: ChainRunner
        var inflight = 0
        var quiescing = false
        var waiting: [CheckedContinuation<Void, Never>] = []
        var drained: CheckedContinuation<Bool, Never>?
        var calls: [Int: (call: FilterCall, runner: ChainRunner)] = [:]
        var nextCall = 0
        var closed = false
    }

    public let base: any BlockDevice
    public let disk: String
    let log: FilterEventLog
    let state: Mutex<State>
    private let watchdogInterval: Duration

    /// - Parameters:
    ///   - disk: the disk's name in messages and events (`datastore/disk`).
    ///   - events: told of every filter failure, timeout and bypass on this disk.
    ///   - watchdogInterval: how often requests held by a filter are checked against its timeout.
    public init(
        base: any BlockDevice, disk: String, chain: FilterChain,
        events: @escaping @Sendable (FilterEvent) -> Void = { _ in },
        watchdogInterval: Duration = .milliseconds(100)
    ) {
        self.base = base
        self.disk = disk
        let log = FilterEventLog(sink: events)
        self.log = log
        self.watchdogInterval = watchdogInterval
        self.state = Mutex(State(runner: ChainRunner(chain: chain, base: base, disk: disk, report: log.record)))
        Task { [weak self, watchdogInterval] in
            while let device = self, !device.isClosed {
                device.checkTimeouts()
                try? await Task.sleep(for: watchdogInterval)
            }
        }
    }

    /// The chain in force.
    public var chain: FilterChain {
        state.withLock { FilterChain(stages: $0.runner.stages) }
    }

    /// The newest events of this disk's filters, oldest first.
    public var recentEvents: [FilterEvent] { log.recent }

    private var isClosed: Bool { state.withLock { $0.closed } }

    public var geometry: BlockGeometry { base.geometry }
    public var preferredTaskExecutor: (any TaskExecutor)? { base.preferredTaskExecutor }

    /// The disk's capabilities less what some filter in the chain does not handle: a filter may
    /// narrow what the disk offers, never widen it.
    public var capabilities: BlockDeviceCapabilities {
        var capabilities = base.capabilities
        let operations = chain.operations
        if !operations.contains(.unmap) { capabilities.subtract([.unmap]) }
        if !operations.contains(.writeSame) { capabilities.subtract([.writeSame, .writeSameUnmap]) }
        if !operations.contains(.compareAndWrite) { capabilities.subtract(.compareAndWrite) }
        if !operations.contains(.reservation) { capabilities.subtract(.persistentReservations) }
        return capabilities
    }

    @discardableResult
    public func refreshGeometry() async throws -> BlockGeometry { try await base.refreshGeometry() }

    public func read(at lba: UInt64, blockCount: Int) async throws -> ByteBuffer {
        let runner = await admit()
        defer { release() }
        if runner.stages.isEmpty { return try await base.read(at: lba, blockCount: blockCount) }
        guard case .data(let data) = try await perform(.read(lba: lba, blockCount: blockCount), runner) else {
            throw unexpectedReply(.read)
        }
        return data
    }

    public func write(_ data: ByteBuffer, at lba: UInt64, fua: Bool) async throws {
        let runner = await admit()
        defer { release() }
        if runner.stages.isEmpty { return try await base.write(data, at: lba, fua: fua) }
        _ = try await perform(.write(data, lba: lba, fua: fua), runner)
    }

    public func flush() async throws {
        let runner = await admit()
        defer { release() }
        if runner.stages.isEmpty { return try await base.flush() }
        _ = try await perform(.flush, runner)
    }

    public func unmap(_ ranges: [BlockRange]) async throws {
        let runner = await admit()
        defer { release() }
        if runner.stages.isEmpty { return try await base.unmap(ranges) }
        _ = try await perform(.unmap(ranges), runner)
    }

    public func writeSame(_ pattern: ByteBuffer, at lba: UInt64, blockCount: Int, unmap: Bool) async throws {
        let runner = await admit()
        defer { release() }
        if runner.stages.isEmpty { return try await base.writeSame(pattern, at: lba, blockCount: blockCount, unmap: unmap) }
        _ = try await perform(.writeSame(pattern, lba: lba, blockCount: blockCount, unmap: unmap), runner)
    }

    public func compareAndWrite(at lba: UInt64, expected: ByteBuffer, replacement: ByteBuffer) async throws {
        let runner = await admit()
        defer { release() }
        if runner.stages.isEmpty { return try await base.compareAndWrite(at: lba, expected: expected, replacement: replacement) }
        _ = try await perform(.compareAndWrite(lba: lba, expected: expected, replacement: replacement), runner)
    }

    public func persistentReserveOut(_ request: PersistentReserveOutRequest) async throws {
        let runner = await admit()
        defer { release() }
        if runner.stages.isEmpty { return try await base.persistentReserveOut(request) }
        _ = try await perform(.persistentReserveOut(request), runner)
    }

    public func readReservationKeys() async throws -> PersistentReservationKeys {
        let runner = await admit()
        defer { release() }
        if runner.stages.isEmpty { return try await base.readReservationKeys() }
        guard case .keys(let keys) = try await perform(.readReservationKeys, runner) else { throw unexpectedReply(.reservation) }
        return keys
    }

    public func readReservation() async throws -> PersistentReservationStatus {
        let runner = await admit()
        defer { release() }
        if runner.stages.isEmpty { return try await base.readReservation() }
        guard case .reservation(let status) = try await perform(.readReservation, runner) else { throw unexpectedReply(.reservation) }
        return status
    }

    /// Detaches every filter (a cache writes back), stops the watchdog and closes `base`.
    public func close() async throws {
        let stages = state.withLock { state in
            state.closed = true
            return state.runner.stages
        }
        var firstError: (any Error)?
        for stage in stages {
            do { try await stage.filter.detach() } catch { firstError = firstError ?? error }
        }
        try await base.close()
        if let firstError { throw firstError }
    }

    private func unexpectedReply(_ operation: FilterOperation) -> BlockDeviceError {
        BlockDeviceError(.deviceError, "a filter on disk \(disk) answered a \(operation) with the wrong kind of reply")
    }

    /// Runs a request through a non-empty chain in a task of its own, waiting for the one result.
    private func perform(_ request: FilterRequest, _ runner: ChainRunner) async throws -> FilterReply {
        let call = FilterCall(request, stageCount: runner.stages.count)
        let id = register(call, runner)
        defer { unregister(id) }
        return try await call.wait {
            Task(executorPreference: base.preferredTaskExecutor) {
                do {
                    call.finish(.success(try await runner.run(request, from: 0, call: call)))
                } catch {
                    call.finish(.failure(error))
                }
            }
        }
    }

    private func register(_ call: FilterCall, _ runner: ChainRunner) -> Int {
        state.withLock { state in
            defer { state.nextCall &+= 1 }
            state.calls[state.nextCall] = (call, runner)
            return state.nextCall
        }
    }

    private func unregister(_ id: Int) {
        _ = state.withLock { $0.calls.removeValue(forKey: id) }
    }

    /// Fails (or, for a `bypass` filter, routes around) every request a filter has held past
    /// its answer timeout.
    func checkTimeouts(now: ContinuousClock.Instant = .now) {
        let overdue = state.withLock { state in
            state.calls.values.compactMap { entry in
                entry.call.overdueStage(timeouts: entry.runner.timeouts, now: now).map { (entry.call, entry.runner, $0) }
            }
        }
        for (call, runner, stage) in overdue {
            let filter = runner.stages[stage].filter
            let operation = call.request.operation
            call.abandon()
            switch filter.failurePolicy {
            case .failIO:
                runner.report(FilterEvent(disk: disk, filter: filter.name, kind: .timedOut(operation, filter.answerTimeout)))
                call.finish(.failure(BlockDeviceError(
                    .timeout,
                    "filter \(filter.name) on disk \(disk) did not answer a \(operation) within \(filter.answerTimeout); the I/O failed (its failure policy is fail-io)"
                )))
            case .bypass:
                runner.bypass(stage, reason: "it did not answer a \(operation) within \(filter.answerTimeout)")
                if let reply = call.completedReply(stage) {
                    call.finish(.success(reply))
                    continue
                }
                let fresh = FilterCall(call.request, stageCount: runner.stages.count)
                let id = register(fresh, runner)
                Task(executorPreference: base.preferredTaskExecutor) { [self] in
                    defer { unregister(id) }
                    do {
                        call.finish(.success(try await runner.run(call.request, from: stage + 1, call: fresh)))
                    } catch {
                        call.finish(.failure(error))
                    }
                }
            }
        }
    }
}
