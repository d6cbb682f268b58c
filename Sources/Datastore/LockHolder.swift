// Who holds a lock another host wants, as a `locked` error carries it: enough for a caller that
// retries (the daemon's automatic takeover) to say whom it waits for and how stale they look.

import Foundation

/// The holder of a lock, seen from the host that was refused it.
public struct LockHolder: Sendable, Hashable {
    /// The holder's host name ("host slots [1, 3]" for shared read-only holders).
    public var name: String
    /// How long this host has seen the holder's heartbeat stand still.
    public var heartbeatAge: Duration
    /// The lease after which this host breaks the lock.
    public var lease: Duration

    public init(name: String, heartbeatAge: Duration, lease: Duration) {
        self.name = name
        self.heartbeatAge = heartbeatAge
        self.lease = lease
    }
}
