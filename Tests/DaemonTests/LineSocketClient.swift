// A blocking Unix stream client for tests, independent of the daemon's own NIO code.

import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Connects to a socket path, writes raw bytes and reads newline-terminated lines with a timeout.
/// Unchecked Sendable: each test drives its client from one task, one call at a time.
final class LineSocketClient: @unchecked Sendable {
    private let fd: Int32
    private var pending: [UInt8] = []

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw Failure(description: "connect \(path): \(String(cString: strerror(code)))")
        }
    }

    deinit {
        close(fd)
    }

    func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        // Each turn writes at least one byte or fails, so the loop ends.
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written > 0 else { throw Failure(description: "write: \(String(cString: strerror(errno)))") }
            offset += written
        }
    }

    /// The next line, or a failure after `timeout` seconds or at end of stream.
    func readLine(timeout: Double = 10) async throws -> String {
        try await OffPool.run { try self.readLineBlocking(timeout: timeout) }
    }

    private func readLineBlocking(timeout: Double) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        // Each turn waits for data or the deadline, so the loop ends by the deadline at the latest.
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw Failure(description: "no line within \(timeout) s") }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(remaining * 1000) + 1) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { throw Failure(description: "end of stream") }
            pending += chunk[..<count]
        }
    }

    /// The next line parsed as a JSON object.
    func readJSON(timeout: Double = 10) async throws -> [String: Any] {
        let line = try await readLine(timeout: timeout)
        guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw Failure(description: "not a JSON object: \(line)")
        }
        return object
    }
}
