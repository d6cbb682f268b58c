// A minimal blocking HTTP client for the metrics listener tests, and which TCP ports a process listens on.

import Foundation
import TestSupport

enum HTTPProbe {
    /// Sends `request` to 127.0.0.1:`port` and returns everything received until the server closes
    /// (or 5 s pass). Requests should say `Connection: close`.
    static func exchange(port: Int, _ request: String) async -> String {
        await OffPool.run { exchangeBlocking(port: port, Array(request.utf8)) }
    }

    /// The body of `GET /metrics`, or nil when the answer is not 200.
    static func scrape(port: Int) async -> String? {
        let answer = await exchange(port: port, "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        guard answer.hasPrefix("HTTP/1.1 200 OK\r\n"), let split = answer.range(of: "\r\n\r\n") else { return nil }
        return String(answer[split.upperBound...])
    }

    /// The value of the sample line `series` (name and labels, exactly as exposed); nil when absent.
    static func value(of series: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    private static func exchangeBlocking(port: Int, _ request: [UInt8]) -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return "" }
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        // Bounded: each recv waits at most 5 s, and the answer is capped at 16 MiB.
        while received.count < 16 << 20 {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            received += chunk[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Ports on which process `pid` holds a listening TCP socket (IPv4 or IPv6).
    static func listeningPorts(pid: pid_t) -> Set<Int> {
        let fdDirectory = "/proc/\(pid)/fd"
        let links = Set(((try? FileManager.default.contentsOfDirectory(atPath: fdDirectory)) ?? []).compactMap {
            try? FileManager.default.destinationOfSymbolicLink(atPath: "\(fdDirectory)/\($0)")
        })
        var ports: Set<Int> = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let text = (try? String(contentsOfFile: table, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                // local address "HEXADDR:HEXPORT", state 0A = LISTEN, inode in field 9.
                guard fields.count > 9, fields[3] == "0A", links.contains("socket:[\(fields[9])]"),
                      let port = fields[1].split(separator: ":").last.flatMap({ Int($0, radix: 16) }) else { continue }
                ports.insert(port)
            }
        }
        return ports
    }
}
