// Taking back what a LUN holds for later: the commands waiting for a recovered session, and
// whatever the kernel still holds unsent on a connection that may only be silent.

import BlockDevice

extension ISCSILUN {
    /// Fails every command not yet completed with `.fenced` and makes sure none reaches the
    /// target later: commands waiting for a login fail at once (the logins start afresh for
    /// later commands), and the live connection of a LUN that owns its session is reset, so
    /// what the kernel still held unsent is dropped and what was in flight fails instead of
    /// being repeated. A target that had received a command may still run it. A LUN on a
    /// borrowed session repeats nothing, and leaves the session to its owner.
    public func revokeOutstandingCommands(reason: String) async {
        revocation.revoke(reason: reason)
        link.interruptRecovery()
        guard ownsSession, case .connected = link.recoveryState else { return }
        await link.latest.close()
    }
}
