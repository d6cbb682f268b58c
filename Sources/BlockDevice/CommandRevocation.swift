// The bookkeeping behind `BlockDevice.revokeOutstandingCommands`: a counter of revocations
// that a command reads when it starts and checks before it is sent again.

import Synchronization

/// How many times a device's outstanding commands were revoked, and why the last time.
///
/// A command takes a `mark` when it starts. Wherever it could be sent again later (after a
/// reconnection, on another path, after waiting for a path), it calls `check(since:)` first:
/// a revocation since its mark makes it fail with `.fenced` instead of going out. Taking a
/// mark and checking one are an atomic load each; only a revocation takes the lock.
public final class CommandRevocation: Sendable {
    /// A point in the device's revocation history.
    public struct Mark: Sendable, Equatable {
        fileprivate let count: UInt64
    }

    private let count = Atomic<UInt64>(0)
    /// The newest revocation's reason, written before `count` moves past it.
    private let reason = Mutex("")

    public init() {}

    /// The history as a command starting now sees it.
    public var mark: Mark { Mark(count: count.load(ordering: .acquiring)) }

    /// Records a revocation; commands marked before it fail at their next `check`.
    public func revoke(reason: String) {
        self.reason.withLock { newest in
            newest = reason
            count.add(1, ordering: .releasing)
        }
    }

    /// Whether a revocation came after `mark`.
    public func isRevoked(since mark: Mark) -> Bool {
        count.load(ordering: .acquiring) != mark.count
    }

    /// Throws `.fenced` naming the operation, the device and the last revocation's reason when
    /// a revocation came after `mark`.
    public func check(since mark: Mark, _ operation: @autoclosure () -> String, on object: @autoclosure () -> String) throws(BlockDeviceError) {
        guard isRevoked(since: mark) else { return }
        let reason = self.reason.withLock { $0 }
        throw BlockDeviceError(.fenced, "\(operation()) on \(object()) was taken back before it could be sent again: \(reason)")
    }
}
