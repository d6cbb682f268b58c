// The probe task: dead paths opened again, idle paths checked, ALUA states read, on an interval.

import BlockDevice
import SCSI

extension MultipathDevice {
    func startProbing() {
        let task = Task { [weak self] in
            while !Task.isCancelled {
                guard let interval = self?.options.probeInterval else { return }
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled, let self else { return }
                await self.probeRound()
            }
        }
        prober.withLock { $0 = task }
    }

    /// One round: every dead path that damping allows is opened again (a damped path too when
    /// no path takes I/O: a flapping path beats none); every open path idle for an interval
    /// gets TEST UNIT READY; then the ALUA states are read again.
    func probeRound() async {
        let now = now()
        let (reopen, check) = inner.withLock { inner -> ([Int], [(Int, Int, any SCSIBlockCommands)]) in
            guard !inner.closed, inner.lost == nil else { return ([], []) }
            let noneUsable = !inner.slots.contains(where: \.takesIO)
            var reopen: [Int] = []
            var check: [(Int, Int, any SCSIBlockCommands)] = []
            for index in inner.slots.indices where !inner.slots[index].disabled {
                if let device = inner.slots[index].device {
                    if now - inner.slots[index].lastActivity >= options.probeInterval {
                        check.append((index, inner.slots[index].generation, device))
                    }
                } else if !inner.slots[index].opening {
                    let allowed = inner.slots[index].damping.allowsUse(at: now)
                    if allowed || noneUsable {
                        reopen.append(index)
                    } else {
                        let wait = inner.slots[index].damping.remainingSuppression(at: now)
                        inner.slots[index].reason = "damped after repeated failures; tried again in \(Self.seconds(wait))"
                    }
                }
            }
            return (reopen, check)
        }
        await withTaskGroup(of: Void.self) { group in
            for index in reopen {
                group.addTask { await self.reopen(index) }
            }
            for (index, generation, device) in check {
                group.addTask { await self.probe(index, generation: generation, device: device) }
            }
        }
        declareLossIfEveryPathSaysSo()
        await readAccessStates()
        noticeAllPathsDown()
    }

    /// Starts the all-paths-down clock (and reports it) when no path takes I/O, even while no
    /// command is waiting: the owner's state should say so before the next command finds out.
    func noticeAllPathsDown() {
        let reason = inner.withLock { inner -> String? in
            guard !inner.closed, inner.lost == nil, inner.allDownSince == nil, !inner.slots.contains(where: \.takesIO) else { return nil }
            inner.allDownSince = inner.lastGood
            return Self.reasons(inner.slots)
        }
        if let reason { eventSink.yield(.allPathsDown(reason: reason)) }
    }

    // MARK: ALUA

    /// Reads the target port groups through any open path and applies their states; the first
    /// time it works, the unit is known to have ALUA.
    func readAccessStates() async {
        guard let device = inner.withLock({ inner in inner.slots.first(where: { $0.device != nil })?.device }) else { return }
        await refreshAccessStates(using: device)
    }

    /// REPORT TARGET PORT GROUPS on `device`; each path takes its group's state.
    func refreshAccessStates(using device: any SCSIBlockCommands) async {
        guard let groups = try? await device.reportTargetPortGroups() else { return }
        inner.withLock { $0.hasALUA = true }
        applyAccessStates(groups, portGroupOf: nil, portGroup: nil)
    }

    /// Sets every path's ALUA state from `groups` (and the group of path `index` when given),
    /// moving open paths between active and standby.
    func applyAccessStates(_ groups: [TargetPortGroup], portGroupOf index: Int?, portGroup: UInt16?) {
        let states = Dictionary(groups.map { ($0.id, $0.state) }, uniquingKeysWith: { first, _ in first })
        var events: [MultipathEvent] = []
        inner.withLock { inner in
            if let index { inner.slots[index].portGroup = portGroup }
            for slot in inner.slots.indices {
                guard let group = inner.slots[slot].portGroup, let state = states[group] else { continue }
                inner.slots[slot].accessState = state
                guard inner.slots[slot].device != nil else { continue }
                let to = PathSlot.openState(for: state)
                let from = inner.slots[slot].state
                guard to != from else { continue }
                inner.slots[slot].state = to
                inner.slots[slot].reason = "target port group \(group) is \(state)"
                if to == .active { inner.slots[slot].healthySince = now() }
                events.append(.pathChanged(path: inner.slots[slot].name, from: from, to: to, reason: inner.slots[slot].reason))
            }
            if inner.slots.contains(where: \.takesIO), inner.allDownSince != nil {
                inner.allDownSince = nil
                inner.allDownTimedOut = false
                if let path = inner.slots.first(where: \.takesIO) { events.append(.pathsRestored(path: path.name)) }
            }
        }
        for event in events { eventSink.yield(event) }
        if !events.isEmpty { signal.signal() }
    }

    /// A unit attention on some path: ALUA states changed (2Ah/06h), or the target port
    /// groups did (2Ah/07h-ish reports): read them again.
    func unitAttention(_ sense: SenseData) {
        let code = sense.additionalSenseCode
        guard code.asc == 0x2A || (code.asc == 0x3F && code.ascq == 0x0E) else { return }
        Task { await self.readAccessStates() }
    }
}
