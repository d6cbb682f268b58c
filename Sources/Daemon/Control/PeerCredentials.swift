// Who is on the other end of a control connection, as the kernel reports it (SO_PEERCRED).

#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// The peer's process, user and primary group at the time it connected. The stored properties
/// mirror Linux's `struct ucred` (pid_t, uid_t, gid_t), which Glibc's module hides behind
/// _GNU_SOURCE, so SO_PEERCRED is read straight into this type.
public struct PeerCredentials: Sendable, Hashable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }

    /// Reads SO_PEERCRED from a connected Unix socket channel; on the channel's event loop.
    static func read(from channel: any Channel) -> EventLoopFuture<PeerCredentials> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(ChannelError.operationUnsupported)
        }
        precondition(MemoryLayout<PeerCredentials>.size == 12, "PeerCredentials must match struct ucred")
        return provider.unsafeGetSocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: SOL_SOCKET),
            name: NIOBSDSocket.Option(rawValue: SO_PEERCRED)
        )
    }
}
