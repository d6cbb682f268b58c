// What a filter calls to send a request further down its disk's chain.

import BlockDevice

/// The rest of the chain below one filter, for one request. Pass down as often as the filter
/// needs (a replication filter writes twice); wrap deliberate waits in `deferring`.
public struct FilterNext: Sendable {
    let runner: ChainRunner
    let call: FilterCall
    let stage: Int

    /// The disk's geometry, as the datastore reports it.
    public var geometry: BlockGeometry { runner.base.geometry }
    /// The disk the chain serves (`datastore/disk` in the daemon).
    public var disk: String { runner.disk }

    /// Runs `request` through the filters below this one and the disk.
    public func pass(_ request: FilterRequest) async throws -> FilterReply {
        do {
            try call.beginBelow(stage)
        } catch {
            throw BlockDeviceError(.timeout, "filter \(runner.stages[stage].filter.name) on disk \(runner.disk) passed down a \(request.operation) after the chain gave up on it")
        }
        do {
            let reply = try await runner.run(request, from: stage + 1, call: call)
            call.endBelow(stage, reply: reply)
            return reply
        } catch {
            call.endBelow(stage, reply: nil)
            throw error
        }
    }

    /// Runs `body`, a wait the filter does on purpose (a QoS queue), without it counting
    /// against the filter's answer timeout.
    public func deferring<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            try call.beginBelow(stage, deferring: true)
        } catch {
            throw BlockDeviceError(.timeout, "filter \(runner.stages[stage].filter.name) on disk \(runner.disk) deferred a request the chain already gave up on")
        }
        defer { call.endBelow(stage, deferring: true, reply: nil) }
        return try await body()
    }
}
