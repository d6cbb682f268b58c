// What `vdiskctl paths` shows of one LUN: its state, policy and every path with its counters.

import BlockDevice
import SCSI

/// One LUN's multipath state at a moment.
public struct MultipathSnapshot: Sendable {
    /// How the LUN as a whole stands.
    public enum Health: String, Sendable {
        /// Every path that is not disabled takes I/O.
        case optimal
        /// Some path is dead or standby, but I/O flows.
        case degraded
        /// No path takes I/O; commands wait until the APD timeout.
        case allPathsDown = "all paths down"
        /// The APD timeout passed; commands fail until a path returns.
        case allPathsDownTimedOut = "all paths down, timed out"
        /// The unit is gone for good; it must be reopened.
        case deviceLost = "device lost"
        case closed
    }

    /// One path.
    public struct Path: Sendable {
        public var name: String
        public var source: String?
        public var destination: String
        public var state: PathState
        public var reason: String
        /// Open but kept out of use by flap damping while another path takes I/O.
        public var damped: Bool
        /// Whether the policy sent the last command here.
        public var selected: Bool
        public var portGroup: UInt16?
        public var accessState: AsymmetricAccessState?
        public var counters: PathCounters
    }

    public var name: String
    public var health: Health
    public var policy: PathPolicy
    public var identity: LUNIdentity
    public var lostMessage: String?
    public var paths: [Path]
}

extension MultipathDevice {
    public var snapshot: MultipathSnapshot {
        let now = now()
        return inner.withLock { inner in
            let open = inner.slots.filter(\.takesIO).count
            let health: MultipathSnapshot.Health =
                if inner.closed { .closed }
                else if inner.lost != nil { .deviceLost }
                else if open == 0 { inner.allDownTimedOut ? .allPathsDownTimedOut : .allPathsDown }
                else if open < inner.slots.filter({ !$0.disabled }).count { .degraded }
                else { .optimal }
            let paths = inner.slots.indices.map { index in
                let slot = inner.slots[index]
                return MultipathSnapshot.Path(
                    name: slot.name,
                    source: slot.configuration.source,
                    destination: slot.configuration.destination,
                    state: slot.state,
                    reason: slot.reason,
                    damped: slot.takesIO && slot.damping.isSuppressed(at: now),
                    selected: inner.selector.current == index && slot.takesIO,
                    portGroup: slot.portGroup,
                    accessState: slot.accessState,
                    counters: slot.counters
                )
            }
            return MultipathSnapshot(name: name, health: health, policy: inner.selector.policy, identity: inner.identity, lostMessage: inner.lost, paths: paths)
        }
    }

    /// Changes the policy; the next command already follows it.
    public func setPolicy(_ policy: PathPolicy) throws(PathsError) {
        if case .fixed(let preferred?) = policy, !inner.withLock({ $0.slots.contains { $0.name == preferred } }) {
            throw PathsError(.notFound, "\(name) has no path \(preferred) to prefer; its paths are \(pathNames.joined(separator: ", "))")
        }
        inner.withLock { $0.selector.policy = policy }
    }

    public var pathNames: [String] { inner.withLock { $0.slots.map(\.name) } }

    /// Takes a path out of service (its session is closed; commands on it move to another
    /// path) or puts it back (the prober opens it at its next round).
    public func setEnabled(_ enabled: Bool, path: String) async throws(PathsError) {
        var event: MultipathEvent?
        let closing = try inner.withLock { inner throws(PathsError) -> (any SCSIBlockCommands)? in
            guard let index = inner.slots.firstIndex(where: { $0.name == path }) else {
                throw PathsError(.notFound, "\(name) has no path \(path); its paths are \(inner.slots.map(\.name).joined(separator: ", "))")
            }
            guard inner.slots[index].disabled == enabled else { return nil }
            let from = inner.slots[index].state
            inner.slots[index].disabled = !enabled
            if enabled {
                inner.slots[index].state = .dead
                inner.slots[index].reason = "enabled by the operator; opening at the next probe"
                event = .pathChanged(path: path, from: from, to: .dead, reason: inner.slots[index].reason)
                return nil
            }
            let device = inner.slots[index].device
            inner.slots[index].device = nil
            inner.slots[index].state = .disabled
            inner.slots[index].reason = "disabled by the operator"
            event = .pathChanged(path: path, from: from, to: .disabled, reason: inner.slots[index].reason)
            return device
        }
        if let event { eventSink.yield(event) }
        signal.signal()
        if let closing { try? await closing.close() }
    }

    /// After device loss: forgets it and lets the prober open every path again, as at start.
    /// A path that reaches another unit is still refused.
    public func reopen() async {
        inner.withLock { inner in
            inner.lost = nil
            inner.allDownSince = nil
            inner.allDownTimedOut = false
            for index in inner.slots.indices { inner.slots[index].unitNotSupported = false }
        }
        signal.signal()
        await probeRound()
    }
}
