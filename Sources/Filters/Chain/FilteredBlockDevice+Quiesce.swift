// Admitting requests, and quiescing them to swap a disk's chain live.

import BlockDevice

extension FilteredBlockDevice {
    /// Counts a request in and returns the chain it runs on; waits while a swap is quiescing.
    func admit() async -> ChainRunner {
        while true {
            if let runner = state.withLock({ state -> ChainRunner? in
                guard !state.quiescing else { return nil }
                state.inflight += 1
                return state.runner
            }) {
                return runner
            }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    guard state.quiescing else { return true }
                    state.waiting.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    func release() {
        let drained = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            state.inflight -= 1
            guard state.quiescing, state.inflight == 0 else { return nil }
            defer { state.drained = nil }
            return state.drained
        }
        drained?.resume(returning: true)
    }

    /// Quiesces the disk's I/O, runs `swap` (which returns the chain to install), and resumes.
    /// Requests inside finish first; new ones wait. When requests are still inside after
    /// `timeout`, nothing changes and this throws `.busy`. When `swap` throws, the old chain
    /// stays in force.
    func quiesced(timeout: Duration, _ swap: (FilterChain) async throws -> FilterChain) async throws {
        let started = state.withLock { state -> Bool in
            guard !state.quiescing, !state.closed else { return false }
            state.quiescing = true
            return true
        }
        guard started else {
            throw BlockDeviceError(.busy, "disk \(disk) is closed or already changing its filter chain; try again")
        }
        let drained = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let now = state.withLock { state -> Bool in
                if state.inflight == 0 { return true }
                state.drained = continuation
                return false
            }
            if now {
                continuation.resume(returning: true)
                return
            }
            Task { [self] in
                try? await Task.sleep(for: timeout)
                let waiter = state.withLock { state in
                    defer { state.drained = nil }
                    return state.drained
                }
                waiter?.resume(returning: false)
            }
        }
        var outcome: Result<FilterChain, any Error>
        if drained {
            do {
                outcome = .success(try await swap(chain))
            } catch {
                outcome = .failure(error)
            }
        } else {
            let inside = state.withLock { $0.inflight }
            outcome = .failure(BlockDeviceError(.busy, "disk \(disk) still had \(inside) I/Os inside its filter chain after \(timeout); the chain was not changed"))
        }
        let waiting = state.withLock { state in
            if case .success(let chain) = outcome {
                state.runner = ChainRunner(chain: chain, base: base, disk: disk, report: log.record)
            }
            state.quiescing = false
            defer { state.waiting = [] }
            return state.waiting
        }
        for waiter in waiting { waiter.resume() }
        if case .failure(let error) = outcome { throw error }
    }

    /// Puts `newChain` in force: quiesce, detach the filters that leave, swap, resume.
    public func replaceChain(with newChain: FilterChain, quiesceTimeout: Duration = .seconds(10)) async throws {
        try await quiesced(timeout: quiesceTimeout) { old in
            let staying = Set(newChain.stages.map { ObjectIdentifier($0.filter) })
            for stage in old.stages where !staying.contains(ObjectIdentifier(stage.filter)) {
                try await stage.filter.detach()
            }
            return newChain
        }
    }

    /// Changes a filter's parameters in place (no quiesce); the filter checks them first.
    public func updateParameters(of name: String, _ changes: FilterParameters) throws(FilterConfigError) {
        guard let filter = chain.filter(named: name) else {
            throw FilterConfigError(.notFound, filter: name, parameter: nil, "disk \(disk) has no \(name) filter (its chain: \(chain.describedNames))")
        }
        try filter.update(filter.parameters.merging(changes))
    }
}
