// What every started target daemon (tgtd, istgt) offers a test, so one test
// body can run against either.

#if canImport(Glibc)
import Glibc
#endif

public protocol ISCSITargetDaemon: Sendable {
    /// The loopback portal the daemon listens on.
    var portal: Portal { get }
    /// The configured targets, in configuration order.
    var targets: [ServedTarget] { get }
    /// The daemon's PID, to check it is gone after stop.
    var pid: pid_t { get }
    /// The scratch directory holding config, logs and backing files.
    var directory: ScratchDirectory { get }

    /// Ends the daemon and removes its directory; safe to call twice.
    func stop() async

    /// Kills the daemon at once (SIGKILL), as a crash or a pulled plug would:
    /// sessions drop without logout or reject. `stop()` still cleans up after it.
    func kill() async
}

extension ISCSITargetDaemon {
    public func target(_ iqn: String) -> ServedTarget? {
        targets.first { $0.iqn == iqn }
    }

    /// `stop()` in a task of its own, so it runs to the end even when the calling task is
    /// cancelled (a cancelled sleep would skip the waits).
    func stopShielded() async {
        await Task { await self.stop() }.value
    }

    /// A libiscsi URL for `lun` of `iqn`, with that target's CHAP credentials.
    public func url(_ iqn: String, lun: Int) -> String {
        portal.libiscsiURL(target: iqn, lun: lun, chap: target(iqn)?.chap)
    }
}
