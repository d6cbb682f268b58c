// A flood of TCP connections to a loopback port that never send a byte: what a server's
// admission limits and login timeout must cope with. The test reads which of them the server
// closed on arrival and when the rest were closed.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `count` connections to 127.0.0.1:`port`, closed when this is released.
public final class IdleConnectionFlood: Sendable {
    /// The sockets; only read after `init`, and closed by `deinit`.
    private let descriptors: [Int32]

    /// Connects them one after another (bounded: `count` connects, each completed by the
    /// kernel's backlog or refused at once). Throws when one cannot even connect.
    public init(port: Int, count: Int) throws {
        var opened: [Int32] = []
        for _ in 0..<count {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard descriptor >= 0 else {
                for open in opened { close(open) }
                throw TestSupportError(.systemCallFailed, "socket() failed after \(opened.count) connections: errno \(errno)")
            }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard result == 0 else {
                let code = errno
                close(descriptor)
                for open in opened { close(open) }
                throw TestSupportError(.systemCallFailed, "connect to port \(port) failed after \(opened.count) connections: errno \(code)")
            }
            opened.append(descriptor)
        }
        descriptors = opened
    }

    deinit {
        for descriptor in descriptors { close(descriptor) }
    }

    public var count: Int { descriptors.count }

    /// Whether the server has closed connection `index` (end of stream or reset); waits up to
    /// `milliseconds` for it.
    public func isClosed(_ index: Int, within milliseconds: Int32) -> Bool {
        var watched = pollfd(fd: descriptors[index], events: Int16(POLLIN), revents: 0)
        guard poll(&watched, 1, milliseconds) > 0 else { return false }
        var byte: UInt8 = 0
        let count = recv(descriptors[index], &byte, 1, Int32(MSG_DONTWAIT))
        return count == 0 || (count < 0 && errno == ECONNRESET)
    }

    /// The indices of the connections the server has closed, looking at each for `milliseconds`.
    public func closed(within milliseconds: Int32 = 0) -> [Int] {
        descriptors.indices.filter { isClosed($0, within: milliseconds) }
    }
}
