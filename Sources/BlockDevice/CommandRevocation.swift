// The bookkeeping behind `BlockDevice.revokeOutstandingCommands`: a counter of revocations
// that a command reads when it starts and checks before it is sent again.

import Synchronization

/// How many times a device's outstanding commands were revoked, and why the last time.
///
/// A command takes a `mark` when it starts. Wherever it could be sent again later (after a
/// reconnection, on another path, after waiting for a path), it calls `check(since:)` first:
/// a revocation since its mark makes it fail with `.fenced` instead of going out.
public final class CommandRevocation: Sendable {
    /// A point in the device's revocation history.
    public struct Mark: Sendable, Equatable {
        fileprivate let count: UInt64
    }

    private struct Record {
        var count: UInt64 = 0
        var reason = ""
    }

    private let record = Mutex(Record())

    public init() {}

    /// The history as a command starting now sees it.
    public var mark: Mark { Mark(count: record.withLock { $0.count }) }

    /// Records a revocation; commands marked before it fail at their next `check`.
    public func revoke(reason: String) {
        record.withLock { record in
            record.count &+= 1
            record.reason = reason
        }
    }

    /// Whether a revocation came after `mark`.
    public func isRevoked(since mark: Mark) -> Bool {
        record.withLock { $0.count != mark.count }
    }

    /// Throws `.fenced` naming the operation, the device and the last revocation's reason when
    /// a revocation came after `mark`.
    public func check(since mark: Mark, _ operation: @autoclosure () -> String, on object: @autoclosure () -> String) throws(BlockDeviceError) {
        let reason = record.withLock { $0.count != mark.count ? $0.reason : nil }
        guard let reason else { return }
        throw BlockDeviceError(.fenced, "\(operation()) on \(object()) was taken back before it could be sent again: \(reason)")
    }
}
