// Taking a LUN away from a path lab's target for good (permanent device loss) and giving it back.

extension PathLab {
    /// Deletes LUN `lun` of `iqn` through tgtadm, as an array does when a LUN is unmapped: every
    /// path then answers its commands with CHECK CONDITION, ILLEGAL REQUEST, LOGICAL UNIT NOT
    /// SUPPORTED (25h/00h), TEST UNIT READY and login-time probes included.
    ///
    /// tgtd refuses ("this logical unit is still active") while commands are in its queue, and
    /// under a steady load it never empties. Then every link is cut at the target side so no new
    /// command arrives, the delete is retried until the queue has drained (at most
    /// `drainTimeout`), and the links are restored, whatever happened. Returns how long the links
    /// were down: zero when the LUN was idle, otherwise a stall (typically well under a second)
    /// that TCP recovers from by retransmitting what the cut dropped.
    @discardableResult
    public func deleteLUN(_ iqn: String = PathLab.primaryIQN, lun: Int = 1, drainTimeout: Duration = .seconds(5)) async throws -> Duration {
        let tid = try self.tid(of: iqn)
        let arguments = ["--lld", "iscsi", "--op", "delete", "--mode", "logicalunit", "--tid", String(tid), "--lun", String(lun)]
        let first = try await tgtadmResult(arguments)
        if first.succeeded {
            return .zero
        }
        guard first.output.contains("still active") else {
            try first.check()
            return .zero
        }
        let clock = ContinuousClock()
        let start = clock.now
        var last = first
        do {
            try await cutAll()
            _ = try await BoundedWait.until(timeout: drainTimeout, interval: .milliseconds(10)) {
                last = try await tgtadmResult(arguments)
                return last.succeeded || !last.output.contains("still active")
            }
        } catch {
            await restoreAll()
            throw error
        }
        await restoreAll()
        let paused = clock.now - start
        guard last.succeeded else {
            throw TestSupportError(
                .commandFailed,
                "LUN \(lun) of \(iqn) could not be deleted: with every link cut for \(paused) tgtd still answered `tgtadm \(arguments.joined(separator: " "))` with: \(last.output.trimmingCharacters(in: .whitespacesAndNewlines))"
            )
        }
        return paused
    }

    /// Serves LUN `lun` of `iqn` again from the same backing file (the same data and, as tgt
    /// derives it from the target and LUN numbers, the same identity): the LUN came back.
    public func recreateLUN(_ iqn: String = PathLab.primaryIQN, lun: Int = 1) async throws {
        let tid = try self.tid(of: iqn)
        guard let served = tgt.target(iqn)?.lun(lun) else {
            throw TestSupportError(.invalidConfiguration, "the path lab serves no LUN \(lun) of \(iqn)")
        }
        var arguments = ["--lld", "iscsi", "--op", "new", "--mode", "logicalunit", "--tid", String(tid), "--lun", String(lun)]
        if let file = served.backingFile {
            arguments += ["-b", file]
        } else {
            arguments += ["--bstype", "null", "-b", "/dev/null"]
        }
        try await tgt.tgtadm(arguments)
        if served.thinProvisioning {
            try await tgt.tgtadm(["--lld", "iscsi", "--op", "update", "--mode", "logicalunit", "--tid", String(tid), "--lun", String(lun), "--params", "thin_provisioning=1"])
        }
    }

    private func tid(of iqn: String) throws(TestSupportError) -> Int {
        guard let tid = tgt.tid(of: iqn) else {
            throw TestSupportError(.invalidConfiguration, "the path lab serves no target \(iqn); it serves \(tgt.targets.map(\.iqn).joined(separator: ", "))")
        }
        return tid
    }

    /// tgtadm against the lab's tgtd, its refusal a result rather than an error.
    private func tgtadmResult(_ arguments: [String]) async throws -> CommandResult {
        try await ExternalCommand.run(.tgtadm, ["-C", String(tgt.controlNumber)] + arguments, timeout: .seconds(10))
    }

}
