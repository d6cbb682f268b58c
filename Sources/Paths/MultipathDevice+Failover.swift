// Running a command on the path the policy picks, and moving it when the path fails.

import BlockDevice
import SCSI

extension MultipathDevice {
    /// Where a command goes, decided under the lock.
    enum Acquisition {
        case path(index: Int, generation: Int, device: any SCSIBlockCommands)
        /// No path takes I/O: wait for a change (seen at `version`) until `deadline` at most.
        case wait(version: UInt64, deadline: Duration)
        case fail(BlockDeviceError)
    }

    /// Runs `body` on a chosen path and retries it on another when the path fails; `body`
    /// learns whether this is a retry after a path failure.
    func perform<Result: Sendable>(
        _ operation: String,
        kind: PathIOKind,
        bytes: Int,
        _ body: @Sendable (any SCSIBlockCommands, _ isRetry: Bool) async throws -> Result
    ) async throws -> Result {
        var isRetry = false
        let mark = revocation.mark
        while true {
            // A command revoked meanwhile goes to no other path (`revokeOutstandingCommands`).
            if isRetry { try revocation.check(since: mark, operation, on: name) }
            let (index, generation, device) = try await acquire(operation, bytes: bytes, mark: mark)
            let started = now()
            do {
                let result = try await body(device, isRetry)
                completed(index, kind: kind, bytes: bytes, latency: now() - started)
                return result
            } catch {
                switch PathFailure(error) {
                case .answered:
                    inner.withLock { $0.slots[index].lastActivity = now() }
                    throw error
                case .pathDown(let reason):
                    pathFailed(index, generation: generation, reason: reason, commandFailed: true)
                    isRetry = true
                case .portGroupInactive(let reason):
                    await portGroupInactive(index, generation: generation, reason: reason)
                    isRetry = true
                case .unitNotSupported(let reason):
                    await unitNotSupported(index, generation: generation, reason: reason)
                    isRetry = true
                }
            }
        }
    }

    /// A path for the next command, waiting while every path is down (up to the APD timeout).
    private func acquire(_ operation: String, bytes: Int, mark: CommandRevocation.Mark) async throws -> (Int, Int, any SCSIBlockCommands) {
        while true {
            try revocation.check(since: mark, operation, on: name)
            switch choose(operation, bytes: bytes) {
            case .path(let index, let generation, let device):
                return (index, generation, device)
            case .fail(let error):
                throw error
            case .wait(let version, let deadline):
                try Task.checkCancellation()
                await signal.wait(seenVersion: version, upTo: max(.milliseconds(1), deadline - now()))
            }
        }
    }

    private func choose(_ operation: String, bytes: Int) -> Acquisition {
        let now = now()
        var events: [MultipathEvent] = []
        defer { for event in events { eventSink.yield(event) } }
        return inner.withLock { inner -> Acquisition in
            if inner.closed {
                return .fail(BlockDeviceError(.closed, "\(name) is closed"))
            }
            if let lost = inner.lost {
                return .fail(BlockDeviceError(.deviceLost, "\(operation) on \(name) failed: \(lost)"))
            }
            // Damped paths (a flapping link) sit out while another path takes I/O.
            let open = inner.slots.indices.filter { inner.slots[$0].takesIO }
            let undamped = open.filter { inner.slots[$0].damping.allowsUse(at: now) }
            let candidates = (undamped.isEmpty ? open : undamped).map { index in
                let slot = inner.slots[index]
                return PathSelector.Candidate(index: index, name: slot.name, rank: slot.rank, healthySince: slot.healthySince)
            }
            if let index = inner.selector.choose(from: candidates, bytes: bytes, now: now), let device = inner.slots[index].device {
                return .path(index: index, generation: inner.slots[index].generation, device: device)
            }
            let since: Duration
            if let down = inner.allDownSince {
                since = down
            } else {
                since = inner.lastGood
                inner.allDownSince = since
                events.append(.allPathsDown(reason: Self.reasons(inner.slots)))
            }
            let deadline = since + options.apdTimeout
            if now >= deadline {
                let message = "every path to \(name) has been down for \(Self.seconds(now - since)) (apd_timeout \(Self.seconds(options.apdTimeout))): \(Self.reasons(inner.slots))"
                if !inner.allDownTimedOut {
                    inner.allDownTimedOut = true
                    events.append(.allPathsDownTimedOut(message: message))
                }
                return .fail(BlockDeviceError(.transport, "\(operation) on \(name) failed: all paths down; \(message)"))
            }
            return .wait(version: signal.version, deadline: deadline)
        }
    }

    private func completed(_ index: Int, kind: PathIOKind, bytes: Int, latency: Duration) {
        let now = now()
        inner.withLock { inner in
            inner.slots[index].counters.complete(kind, bytes: bytes, latency: latency)
            inner.slots[index].lastActivity = now
            inner.lastGood = now
        }
        if latency > options.stallThreshold { stalled(index, latency: latency) }
    }

    /// A command or probe on the path took `latency`, above the stall threshold: a penalty
    /// towards damping, reported when it takes the path out of use.
    func stalled(_ index: Int, latency: Duration) {
        let now = now()
        let event = inner.withLock { inner -> MultipathEvent? in
            let wasSuppressed = inner.slots[index].damping.isSuppressed(at: now)
            guard inner.slots[index].damping.recordStall(at: now) else { return nil }
            inner.slots[index].counters.stalls += 1
            guard !wasSuppressed, inner.slots[index].damping.isSuppressed(at: now) else { return nil }
            let wait = inner.slots[index].damping.remainingSuppression(at: now)
            let reason = "damped: repeated failures and stalls (the last \(Self.seconds(latency))); out of use for about \(Self.seconds(wait)) while another path takes I/O"
            inner.slots[index].reason = reason
            return .pathChanged(path: inner.slots[index].name, from: inner.slots[index].state, to: inner.slots[index].state, reason: reason)
        }
        if let event { eventSink.yield(event) }
    }

    /// Marks the path dead (when `generation` is still its session) and closes its LUN, so
    /// every other command on it fails over too; the prober opens it again later.
    /// `penalize`: the failure counts towards damping (a revocation, which is no fault of the
    /// path, does not).
    func pathFailed(_ index: Int, generation: Int, reason: String, commandFailed: Bool, penalize: Bool = true) {
        let now = now()
        var event: MultipathEvent?
        let dropped = inner.withLock { inner -> (any SCSIBlockCommands)? in
            if commandFailed { inner.slots[index].counters.pathErrors += 1 }
            guard inner.slots[index].generation == generation, let device = inner.slots[index].device else { return nil }
            let from = inner.slots[index].state
            inner.slots[index].device = nil
            inner.slots[index].state = .dead
            inner.slots[index].reason = reason
            if penalize {
                inner.slots[index].counters.failures += 1
                inner.slots[index].damping.recordFailure(at: now)
            }
            event = .pathChanged(path: inner.slots[index].name, from: from, to: .dead, reason: reason)
            return device
        }
        if let event { eventSink.yield(event) }
        signal.signal()
        if let dropped { Task { try? await dropped.close() } }
    }

    /// The path's group took no I/O: mark it standby and read the groups' states again.
    private func portGroupInactive(_ index: Int, generation: Int, reason: String) async {
        var event: MultipathEvent?
        let device = inner.withLock { inner -> (any SCSIBlockCommands)? in
            guard inner.slots[index].generation == generation, inner.slots[index].state == .active else { return inner.slots[index].device }
            inner.slots[index].state = .standby
            inner.slots[index].reason = reason
            inner.slots[index].counters.pathErrors += 1
            event = .pathChanged(path: inner.slots[index].name, from: .active, to: .standby, reason: reason)
            return inner.slots[index].device
        }
        if let event { eventSink.yield(event) }
        signal.signal()
        if let device { await refreshAccessStates(using: device) }
        // The group that took over may be reached only by paths never opened (a standby path's
        // open fails): open them now rather than at the next probe.
        if !inner.withLock({ $0.slots.contains(where: \.takesIO) }) { await probeRound() }
    }

    /// LOGICAL UNIT NOT SUPPORTED on a path: ask every other open path at once; when every path
    /// that answers says the same, the unit is lost for good.
    private func unitNotSupported(_ index: Int, generation: Int, reason: String) async {
        inner.withLock { $0.slots[index].unitNotSupported = true }
        pathFailed(index, generation: generation, reason: "the target no longer has the LUN on this path (\(reason))", commandFailed: true)
        let others = inner.withLock { inner in
            inner.slots.indices.compactMap { other -> (Int, Int, any SCSIBlockCommands)? in
                guard let device = inner.slots[other].device else { return nil }
                return (other, inner.slots[other].generation, device)
            }
        }
        for (other, otherGeneration, device) in others {
            await probe(other, generation: otherGeneration, device: device)
        }
        declareLossIfEveryPathSaysSo()
    }

    /// Sends TEST UNIT READY on an open path and acts on a path-class failure.
    func probe(_ index: Int, generation: Int, device: any SCSIBlockCommands) async {
        do {
            let started = now()
            _ = try await device.runCommand(CDB.testUnitReady(), name: "TEST UNIT READY", dataOut: nil, dataInLength: 0)
            let now = now()
            inner.withLock { inner in
                inner.slots[index].lastActivity = now
                inner.lastGood = now
            }
            if now - started > options.stallThreshold { stalled(index, latency: now - started) }
        } catch {
            switch PathFailure(error) {
            case .answered:
                break
            case .pathDown(let reason):
                pathFailed(index, generation: generation, reason: reason, commandFailed: false)
            case .portGroupInactive:
                await refreshAccessStates(using: device)
            case .unitNotSupported(let reason):
                inner.withLock { $0.slots[index].unitNotSupported = true }
                pathFailed(index, generation: generation, reason: "the target no longer has the LUN on this path (\(reason))", commandFailed: false)
            }
        }
    }

    /// Declares permanent device loss when no path is open and every path that answered
    /// (not disabled, not merely unreachable) said the unit is not there.
    func declareLossIfEveryPathSaysSo() {
        let message = inner.withLock { inner -> String? in
            guard inner.lost == nil, !inner.closed else { return nil }
            let voters = inner.slots.filter { !$0.disabled }
            guard voters.contains(where: \.unitNotSupported), !voters.contains(where: { $0.device != nil }) else { return nil }
            let message = "device lost: the target reports LOGICAL UNIT NOT SUPPORTED (25h/00h) for \(name) on \(voters.filter(\.unitNotSupported).map(\.name).joined(separator: ", ")); reopen it once the LUN is back"
            inner.lost = message
            return message
        }
        guard let message else { return }
        eventSink.yield(.deviceLost(message: message))
        signal.signal()
    }

    static func reasons(_ slots: [PathSlot]) -> String {
        slots.map { "\($0.name): \($0.state) (\($0.reason))" }.joined(separator: "; ")
    }

    static func seconds(_ duration: Duration) -> String {
        let millis = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return "\(millis / 1000).\(format3(millis % 1000)) s"
    }

    private static func format3(_ value: Int64) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, 3 - text.count)) + text
    }
}
