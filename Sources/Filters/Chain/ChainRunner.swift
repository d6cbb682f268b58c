// Runs one request down one snapshot of a disk's chain: each filter in turn, then the disk,
// applying each filter's failure policy when the filter itself breaks.

import BlockDevice

/// An immutable snapshot (the chain in force when the request was admitted), so a live swap
/// never changes the stages under a request already inside.
final class ChainRunner: Sendable {
    let stages: [FilterStage]
    let base: any BlockDevice
    let disk: String
    let report: @Sendable (FilterEvent) -> Void

    init(chain: FilterChain, base: any BlockDevice, disk: String, report: @escaping @Sendable (FilterEvent) -> Void) {
        self.stages = chain.stages
        self.timeouts = chain.stages.map(\.filter.answerTimeout)
        self.base = base
        self.disk = disk
        self.report = report
    }

    let timeouts: [Duration]

    /// Runs `request` from the stage at `start` down. A filter fails a request on purpose by
    /// throwing a `BlockDeviceError`, which reaches the client unchanged; any other error is the
    /// filter breaking, and meets its failure policy.
    func run(_ request: FilterRequest, from start: Int, call: FilterCall) async throws -> FilterReply {
        var index = start
        while index < stages.count && stages[index].isBypassed { index += 1 }
        guard index < stages.count else { return try await Self.perform(request, on: base) }
        let filter = stages[index].filter
        guard filter.operations.contains(request.operation) else {
            throw BlockDeviceError(
                .notSupported,
                "filter \(filter.name) on disk \(disk) does not handle \(request.operation); the I/O is failed rather than passed around the filter"
            )
        }
        call.enter(index)
        defer { call.leave(index) }
        do {
            return try await filter.handle(request, next: FilterNext(runner: self, call: call, stage: index))
        } catch let error as BlockDeviceError {
            throw error
        } catch {
            switch filter.failurePolicy {
            case .failIO:
                report(FilterEvent(disk: disk, filter: filter.name, kind: .failed(request.operation, "\(error)")))
                throw BlockDeviceError(.deviceError, "filter \(filter.name) on disk \(disk) failed a \(request.operation): \(error)", underlying: error)
            case .bypass:
                bypass(index, reason: "it failed a \(request.operation): \(error)")
                // What went below already completed: its answer stands. Otherwise the request
                // continues as if the filter were not there.
                if let reply = call.completedReply(index) { return reply }
                return try await run(request, from: index + 1, call: call)
            }
        }
    }

    func bypass(_ index: Int, reason: String) {
        if stages[index].markBypassed() {
            report(FilterEvent(disk: disk, filter: stages[index].filter.name, kind: .bypassed(reason)))
        }
    }

    /// The request as the `BlockDevice` call it stands for.
    static func perform(_ request: FilterRequest, on device: any BlockDevice) async throws -> FilterReply {
        switch request {
        case .read(let lba, let count):
            return .data(try await device.read(at: lba, blockCount: count))
        case .write(let data, let lba, let fua):
            try await device.write(data, at: lba, fua: fua)
        case .flush:
            try await device.flush()
        case .unmap(let ranges):
            try await device.unmap(ranges)
        case .writeSame(let pattern, let lba, let count, let unmap):
            try await device.writeSame(pattern, at: lba, blockCount: count, unmap: unmap)
        case .compareAndWrite(let lba, let expected, let replacement):
            try await device.compareAndWrite(at: lba, expected: expected, replacement: replacement)
        case .persistentReserveOut(let request):
            try await device.persistentReserveOut(request)
        case .readReservationKeys:
            return .keys(try await device.readReservationKeys())
        case .readReservation:
            return .reservation(try await device.readReservation())
        }
        return .done
    }
}
