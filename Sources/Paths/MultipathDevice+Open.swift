// Opening a multipath device, and each of its paths again after a loss.

import BlockDevice
import SCSI
import Synchronization

extension MultipathDevice {
    /// The logins of `open`, by path index, as they finish.
    final class OpenResults: Sendable {
        private let results = Mutex<[Int: Result<OpenedPath, any Error>]>([:])

        func set(_ index: Int, _ result: Result<OpenedPath, any Error>) {
            results.withLock { $0[index] = result }
        }

        var all: [Int: Result<OpenedPath, any Error>] { results.withLock { $0 } }
    }

    /// What one path's login found.
    struct OpenedPath: Sendable {
        var device: any SCSIBlockCommands
        var identity: LUNIdentity
        var portGroup: UInt16?
    }

    /// Opens every path at once and returns the device once at least one reached the LUN.
    ///
    /// The LUN's identity is the one most paths reach (the first configured path's on a tie);
    /// paths reaching another unit are refused. Paths that cannot be opened now stay dead and
    /// the prober keeps trying them. Throws when no path opens.
    public static func open(name: String, paths: [PathConfiguration], options: MultipathOptions = MultipathOptions()) async throws -> MultipathDevice {
        try options.validate()
        guard !paths.isEmpty else { throw PathsError(.invalidArgument, "\(name) has no path") }
        let names = paths.map(\.name)
        if let duplicate = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw PathsError(.invalidArgument, "\(name) names path \(duplicate) twice")
        }
        let origin = ContinuousClock.now
        let relay = UnitAttentionRelay()
        // Every path logs in at once; each result lands in its own slot.
        let collected = OpenResults()
        await withTaskGroup(of: Void.self) { group in
            for (index, path) in paths.enumerated() {
                group.addTask {
                    let result: Result<OpenedPath, any Error>
                    do {
                        result = .success(try await openPath(path, onUnitAttention: { relay.forward($0) }))
                    } catch {
                        result = .failure(error)
                    }
                    collected.set(index, result)
                }
            }
        }
        let found = collected.all
        let results = paths.indices.map { found[$0] ?? .failure(PathsError(.noPath, "\(paths[$0].name) was not tried")) }
        let opened = results.compactMap { try? $0.get() }
        guard let identity = majorityIdentity(results) else {
            let reasons = zip(paths, results).map { path, result -> String in
                switch result {
                case .failure(let error): "\(path.name) (\(path.destination)): \(error)"
                case .success: "\(path.name): opened"
                }
            }
            throw PathsError(.noPath, "no path to \(name) could be opened: \(reasons.joined(separator: "; "))")
        }
        let first = opened.first { $0.identity.matches(identity) || identity.isEmpty }!
        var capabilities = first.device.capabilities
        for path in opened where path.identity.matches(identity) || identity.isEmpty {
            capabilities.formIntersection(path.device.capabilities)
        }
        var slots = paths.map { PathSlot(configuration: $0, damping: options.damping) }
        let inner = Inner(
            slots: slots,
            selector: PathSelector(policy: options.policy, failbackDelay: options.failbackDelay),
            identity: identity,
            geometry: first.device.geometry,
            capabilities: capabilities
        )
        slots.removeAll()
        let device = MultipathDevice(name: name, options: options, inner: inner, origin: origin)
        relay.connect { [weak device] sense in device?.unitAttention(sense) }
        var refused: [(any SCSIBlockCommands)] = []
        for (index, result) in results.enumerated() {
            switch result {
            case .success(let path) where identity.isEmpty || path.identity.matches(identity):
                device.install(path, at: index)
            case .success(let path):
                device.refuse(index, identity: path.identity, expected: identity)
                refused.append(path.device)
            case .failure(let error):
                device.openFailed(index, error: error)
            }
        }
        for path in refused { try? await path.close() }
        await device.readAccessStates()
        device.startProbing()
        return device
    }

    /// Logs in on one path and reads the unit's identity and the path's target port group.
    static func openPath(_ path: PathConfiguration, onUnitAttention: @escaping @Sendable (SenseData) -> Void) async throws -> OpenedPath {
        let device = try await path.open(onUnitAttention)
        do {
            let data = try await device.runCommand(CDB.inquiry(page: .deviceIdentification), name: "INQUIRY (device identification)", dataOut: nil, dataInLength: 255)
            let page = try DeviceIdentificationPage(parsing: Array(data.readableBytesView))
            return OpenedPath(device: device, identity: LUNIdentity(page: page), portGroup: page.targetPortGroup)
        } catch {
            try? await device.close()
            throw error
        }
    }

    /// The identity most opened paths share; the earliest path's among equals.
    private static func majorityIdentity(_ results: [Result<OpenedPath, any Error>]) -> LUNIdentity? {
        let identities = results.compactMap { try? $0.get().identity }
        var best: (identity: LUNIdentity, count: Int)?
        for identity in identities {
            let count = identities.filter { $0.matches(identity) || ($0.isEmpty && identity.isEmpty) }.count
            if best == nil || count > best!.count { best = (identity, count) }
        }
        return best?.identity
    }

    /// Makes a freshly opened path usable (active or standby by its group's ALUA state).
    func install(_ path: OpenedPath, at index: Int) {
        let now = now()
        var events: [MultipathEvent] = []
        inner.withLock { inner in
            let from = inner.slots[index].state
            inner.slots[index].device = path.device
            inner.slots[index].generation += 1
            inner.slots[index].portGroup = path.portGroup
            inner.slots[index].opening = false
            inner.slots[index].wasGood = true
            inner.slots[index].unitNotSupported = false
            inner.slots[index].healthySince = now
            inner.slots[index].lastActivity = now
            inner.lastGood = now
            let to = PathSlot.openState(for: inner.slots[index].accessState)
            inner.slots[index].state = to
            inner.slots[index].reason = to == .active ? "open" : "target port group \(inner.slots[index].accessState.map { "\($0)" } ?? "?")"
            events.append(.pathChanged(path: inner.slots[index].name, from: from, to: to, reason: "opened"))
            if to == .active, inner.allDownSince != nil {
                inner.allDownSince = nil
                inner.allDownTimedOut = false
                events.append(.pathsRestored(path: inner.slots[index].name))
            }
        }
        for event in events { eventSink.yield(event) }
        signal.signal()
    }

    func refuse(_ index: Int, identity: LUNIdentity, expected: LUNIdentity) {
        let message = "path \(inner.withLock { $0.slots[index].name }) reaches a different logical unit (\(identity)) than \(name) (\(expected)); it is not used"
        inner.withLock { inner in
            inner.slots[index].opening = false
            inner.slots[index].state = .dead
            inner.slots[index].reason = message
            inner.slots[index].damping.recordFailure(at: now())
        }
        eventSink.yield(.pathRefused(path: inner.withLock { $0.slots[index].name }, message: message))
    }

    /// Records why a path could not be opened. A path whose target port group takes no I/O
    /// (standby, unavailable, transitioning: the engines' open probe meets NOT READY) is
    /// `standby` rather than dead, and is not damped: the prober opens it once its group is active.
    func openFailed(_ index: Int, error: any Error) {
        let failure = PathFailure(error)
        var event: MultipathEvent?
        inner.withLock { inner in
            inner.slots[index].opening = false
            let from = inner.slots[index].state
            switch failure {
            case .portGroupInactive(let reason):
                inner.slots[index].state = .standby
                inner.slots[index].reason = "its target port group takes no I/O now (\(reason))"
            case .unitNotSupported:
                inner.slots[index].unitNotSupported = true
                inner.slots[index].state = .dead
                inner.slots[index].reason = "cannot open: \(error)"
            case .pathDown, .answered:
                inner.slots[index].state = .dead
                inner.slots[index].reason = "cannot open: \(error)"
            }
            if from != inner.slots[index].state {
                event = .pathChanged(path: inner.slots[index].name, from: from, to: inner.slots[index].state, reason: inner.slots[index].reason)
            }
        }
        if let event { eventSink.yield(event) }
    }

    /// Opens a dead path again (from the prober): checks it reaches the same unit, registers
    /// this host's reservation key on its nexus, reads its group's ALUA state.
    func reopen(_ index: Int) async {
        let path = inner.withLock { inner -> PathConfiguration? in
            guard !inner.closed, !inner.slots[index].opening, inner.slots[index].device == nil, !inner.slots[index].disabled else { return nil }
            inner.slots[index].opening = true
            return inner.slots[index].configuration
        }
        guard let path else { return }
        let opened: OpenedPath
        do {
            opened = try await Self.openPath(path, onUnitAttention: { [weak self] sense in self?.unitAttention(sense) })
        } catch {
            openFailed(index, error: error)
            declareLossIfEveryPathSaysSo()
            return
        }
        let (expected, wasGood) = inner.withLock { ($0.identity, $0.slots[index].wasGood) }
        guard expected.isEmpty || opened.identity.matches(expected) else {
            try? await opened.device.close()
            refuse(index, identity: opened.identity, expected: expected)
            if wasGood {
                // The same portal now shows another unit: the one this device served is gone.
                inner.withLock { $0.slots[index].unitNotSupported = true }
                declareLossIfEveryPathSaysSo()
            }
            return
        }
        do {
            try await registerKey(on: opened.device)
            if inner.withLock({ $0.hasALUA }) {
                let groups = try await opened.device.reportTargetPortGroups()
                applyAccessStates(groups, portGroupOf: index, portGroup: opened.portGroup)
            }
        } catch {
            try? await opened.device.close()
            openFailed(index, error: error)
            return
        }
        let closed = inner.withLock { $0.closed }
        guard !closed else {
            try? await opened.device.close()
            return
        }
        install(opened, at: index)
    }
}
