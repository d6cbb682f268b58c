// sd_notify without libsystemd: one datagram per message to the socket named by $NOTIFY_SOCKET.

#if canImport(Glibc)
import Glibc
#endif

/// Sends `READY=1`, `STATUS=...`, `STOPPING=1` and `WATCHDOG=1` to the service manager. Without
/// $NOTIFY_SOCKET (not started by systemd) every send is a no-op, as with sd_notify(3).
public struct SystemdNotifier: Sendable {
    /// The socket path; a leading `@` names an abstract socket, as systemd writes it.
    public let socketPath: String?

    public init(environment: [String: String]) {
        let path = environment["NOTIFY_SOCKET"]
        self.socketPath = (path?.isEmpty ?? true) ? nil : path
    }

    /// Sends one message; returns false when no socket is configured or the send failed.
    /// A failed notification is not fatal: systemd then only sees the daemon later, or restarts it.
    @discardableResult
    public func notify(_ message: String) -> Bool {
        guard let socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(socketPath.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        // An abstract address's length counts only the bytes used; a path's includes its NUL.
        let length = MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1)
        let payload = Array(message.utf8)
        let sent = payload.withUnsafeBytes { body in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, body.baseAddress, body.count, Int32(MSG_NOSIGNAL), $0, socklen_t(length))
                }
            }
        }
        return sent == payload.count
    }

    /// Half of $WATCHDOG_USEC, the ping interval sd_watchdog_enabled(3) recommends; nil when unset,
    /// or when $WATCHDOG_PID names another process.
    public static func watchdogInterval(environment: [String: String], pid: Int32 = getpid()) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 else { return nil }
        if let owner = environment["WATCHDOG_PID"], let ownerPID = Int32(owner), ownerPID != pid { return nil }
        return .microseconds(Int64(usec / 2))
    }
}
