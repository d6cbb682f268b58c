// The host end of the LIO guest's control port: QEMU connects the guest's second serial port
// to a Unix socket in the scratch directory, and this sends requests and reads answers on it
// (the protocol is described in LIOGuestInit). Every wait is bounded by a deadline.

import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

final class LIOControlChannel: Sendable {
    let socketPath: String
    private let descriptor: Int32
    /// One request at a time; `state` holds the next sequence number and unread bytes.
    private let state = NIOLockedValueBox(State())

    private struct State {
        var nextSequence = 1
        var pending: [UInt8] = []
        var closed = false
    }

    /// What the guest said: a line after `@SEQ `.
    enum Answer: Equatable {
        case ok(String)
        case failed(String)
        case booted(String)
    }

    private init(socketPath: String, descriptor: Int32) {
        self.socketPath = socketPath
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    /// Connects to QEMU's socket, waiting until `timeout` for QEMU to create it.
    static func connect(to path: String, timeout: Duration) async throws -> LIOControlChannel {
        var lastError = "the socket never appeared"
        var connected: Int32?
        _ = await BoundedWait.until(timeout: timeout, interval: .milliseconds(50)) {
            guard FileManager.default.fileExists(atPath: path) else { return false }
            let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard descriptor >= 0 else {
                lastError = String(cString: strerror(errno))
                return false
            }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                let bytes = Array(path.utf8.prefix(raw.count - 1))
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            if result == 0 {
                connected = descriptor
                return true
            }
            lastError = String(cString: strerror(errno))
            close(descriptor)
            return false
        }
        guard let connected else {
            throw TestSupportError(.startFailed, "cannot connect to the LIO guest's control socket \(path) within \(timeout): \(lastError)")
        }
        return LIOControlChannel(socketPath: path, descriptor: connected)
    }

    /// Sends one request and waits up to `timeout` for its answer.
    func request(_ verb: String, _ path: String = "-", _ value: String = "", timeout: Duration) async throws -> Answer {
        try await OffPool.run { try self.requestBlocking(verb, path, value, timeout: timeout) }
    }

    /// Waits up to `timeout` for the guest's unasked `@0 booted` line, skipping anything older.
    /// `stillRunning` is asked between reads, so a QEMU that exits ends the wait at once.
    func awaitBoot(timeout: Duration, stillRunning: @escaping @Sendable () -> String?) async throws -> String {
        try await OffPool.run {
            try self.state.withLockedValue { state in
                let deadline = ContinuousClock.now.advanced(by: timeout)
                while true {
                    if let problem = stillRunning() {
                        throw TestSupportError(.startFailed, problem)
                    }
                    guard let line = try self.readLine(&state, until: min(deadline, ContinuousClock.now.advanced(by: .milliseconds(250)))) else {
                        if ContinuousClock.now >= deadline {
                            throw TestSupportError(.startFailed, "the LIO guest did not report booted on its control port within \(timeout)")
                        }
                        continue
                    }
                    if line.hasPrefix("@0 booted") {
                        return String(line.dropFirst("@0 booted".count)).trimmingCharacters(in: .whitespaces)
                    }
                    if line.contains(LIOGuestInit.failureMarker) {
                        throw TestSupportError(.startFailed, "the LIO guest gave up: \(line)")
                    }
                }
            }
        }
    }

    private func requestBlocking(_ verb: String, _ path: String, _ value: String, timeout: Duration) throws -> Answer {
        guard !path.contains(where: \.isWhitespace), !value.contains(where: \.isNewline) else {
            throw TestSupportError(.invalidConfiguration, "a configfs request cannot carry whitespace in its path or a line break in its value: \(verb) \(path) \(value)")
        }
        return try state.withLockedValue { state in
            guard !state.closed else {
                throw TestSupportError(.commandFailed, "the LIO guest's control port \(socketPath) is closed (QEMU ended?)")
            }
            let sequence = state.nextSequence
            state.nextSequence += 1
            try writeAll(Array("\(sequence) \(verb) \(path) \(value)\n".utf8))
            let deadline = ContinuousClock.now.advanced(by: timeout)
            let prefix = "@\(sequence) "
            while let line = try readLine(&state, until: deadline) {
                guard line.hasPrefix(prefix) else { continue }
                let rest = line.dropFirst(prefix.count)
                if rest == "ok" || rest.hasPrefix("ok ") {
                    return .ok(String(rest.dropFirst(2)).trimmingCharacters(in: .whitespaces))
                }
                if rest.hasPrefix("err ") {
                    return .failed(String(rest.dropFirst(4)).trimmingCharacters(in: .whitespaces))
                }
                return .failed("unreadable answer: \(line)")
            }
            throw TestSupportError(.commandTimedOut, "the LIO guest did not answer `\(verb) \(path)` on its control port within \(timeout)")
        }
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw TestSupportError(.systemCallFailed, "writing to the LIO guest's control socket \(socketPath) failed: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    /// The next complete line (without CR/LF), or nil once `deadline` passes.
    private func readLine(_ state: inout State, until deadline: ContinuousClock.Instant) throws -> String? {
        while true {
            if let newline = state.pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: state.pending[..<newline], as: UTF8.self)
                state.pending.removeSubrange(...newline)
                return line.trimmingCharacters(in: CharacterSet(charactersIn: "\r\0"))
            }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return nil }
            let milliseconds = Int32(clamping: remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000 + 1)
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, milliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                throw TestSupportError(.systemCallFailed, "poll on the LIO guest's control socket failed: \(String(cString: strerror(errno)))")
            }
            if ready == 0 { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw TestSupportError(.systemCallFailed, "reading the LIO guest's control socket failed: \(String(cString: strerror(errno)))")
            }
            if count == 0 {
                state.closed = true
                throw TestSupportError(.commandFailed, "QEMU closed the LIO guest's control socket \(socketPath)")
            }
            state.pending.append(contentsOf: buffer[..<count])
        }
    }
}
