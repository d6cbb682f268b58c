// Loopback TCP ports for targets: picking one nobody uses, and telling
// whether a port accepts, is free, or is listened on by a given process.

import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

public enum LoopbackPort {
    public static let host = "127.0.0.1"

    /// Below Linux's ephemeral range (32768–60999 by default), so an outgoing
    /// connection's source port cannot take a port between our check and the
    /// daemon's bind.
    private static let candidates = 20000..<32768

    /// Ports handed out in this process, so parallel tests never race for one.
    private static let handedOut = NIOLockedValueBox<Set<Int>>([])

    /// A port on 127.0.0.1 that is not in use now and was not handed out
    /// before in this process. Another process may still take it before the
    /// daemon binds; the starters detect that and retry with a new port.
    public static func reserve() throws(TestSupportError) -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: candidates)
            let isNew = handedOut.withLockedValue { ports in
                ports.insert(port).inserted
            }
            if isNew && canBind(port: port, reuseAddress: false) {
                return port
            }
        }
        throw TestSupportError(.systemCallFailed, "no free loopback port found in \(candidates) after 200 tries")
    }

    /// Whether a server could bind the port now. With `reuseAddress` (what
    /// servers set), connections lingering in TIME_WAIT do not count.
    public static func canBind(port: Int, reuseAddress: Bool = true) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else {
            return false
        }
        defer { close(descriptor) }
        if reuseAddress {
            var one: Int32 = 1
            setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = loopbackAddress(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return result == 0
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`. A
    /// loopback connect is answered at once, so this never blocks for long.
    public static func isAccepting(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else {
            return false
        }
        defer { close(descriptor) }
        var address = loopbackAddress(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return result == 0
    }

    /// Whether process `pid` itself holds a listening socket on
    /// 127.0.0.1:`port`. "The port accepts" is not enough: if the daemon's
    /// bind failed, whoever took the port first would answer instead.
    public static func isListening(pid: pid_t, port: Int) -> Bool {
        isListening(pid: pid, address: host, port: port)
    }

    /// Whether process `pid` holds a listening socket on IPv4 `address`:`port` in its own network
    /// namespace (read from its /proc/PID/net/tcp, so a daemon in another namespace is seen too).
    public static func isListening(pid: pid_t, address: String, port: Int) -> Bool {
        guard let wanted = procNetAddress(address, port: port) else {
            return false
        }
        let inodes = listeningSocketInodes(table: "/proc/\(pid)/net/tcp", wanted: wanted)
        guard !inodes.isEmpty else {
            return false
        }
        let fdDirectory = "/proc/\(pid)/fd"
        guard let descriptors = try? FileManager.default.contentsOfDirectory(atPath: fdDirectory) else {
            return false
        }
        for descriptor in descriptors {
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: fdDirectory + "/" + descriptor),
               inodes.contains(target)
            {
                return true
            }
        }
        return false
    }

    /// "socket:[INODE]" link targets of sockets listening on `wanted` ("ADDRESS:PORT" in hex),
    /// read from a /proc net/tcp table (state 0A = LISTEN).
    private static func listeningSocketInodes(table: String, wanted: String) -> Set<String> {
        var inodes: Set<String> = []
        for line in TextFile.read(table).split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 9, fields[1] == wanted, fields[3] == "0A" else {
                continue
            }
            inodes.insert("socket:[\(fields[9])]")
        }
        return inodes
    }

    /// An IPv4 address and port as /proc/net/tcp writes them: the address as the host-order
    /// hex of its network-order word ("127.0.0.1" → "0100007F"), the port in hex.
    private static func procNetAddress(_ address: String, port: Int) -> String? {
        let octets = address.split(separator: ".").compactMap { UInt8($0) }
        guard octets.count == 4 else {
            return nil
        }
        return octets.reversed().map { String(format: "%02X", $0) }.joined() + ":" + String(format: "%04X", port)
    }

    private static func loopbackAddress(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
        return address
    }
}
