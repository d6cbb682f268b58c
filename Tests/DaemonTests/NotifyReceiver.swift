// The test's own NOTIFY_SOCKET: a datagram socket collecting what the daemon tells "systemd".

import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Binds a Unix datagram socket at `path` and returns messages as they arrive.
final class NotifyReceiver: Sendable {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, result == 0 else { throw LineSocketClient.Failure(description: "bind \(path): \(errno)") }
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// The next datagram, or nil when none arrives within `timeout` seconds.
    func receive(timeout: Double) async -> String? {
        await OffPool.run { self.receiveBlocking(timeout: timeout) }
    }

    private func receiveBlocking(timeout: Double) -> String? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(timeout * 1000)) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    /// Messages until one contains `needle`; nil if it does not come within `timeout` seconds.
    func waitFor(_ needle: String, timeout: Double) async -> [String]? {
        await OffPool.run { self.waitForBlocking(needle, timeout: timeout) }
    }

    private func waitForBlocking(_ needle: String, timeout: Double) -> [String]? {
        let deadline = Date().addingTimeInterval(timeout)
        var seen: [String] = []
        // Each turn waits at most the time left, so the loop ends by the deadline.
        while deadline.timeIntervalSinceNow > 0 {
            guard let message = receiveBlocking(timeout: deadline.timeIntervalSinceNow) else { return nil }
            seen.append(message)
            if message.contains(needle) { return seen }
        }
        return nil
    }
}
