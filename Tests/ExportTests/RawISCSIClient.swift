// A hand-driven iSCSI client over a blocking loopback socket: our codec builds the
// PDUs, so tests can send the malformed ones no real initiator would.

import Foundation
import ISCSI
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// One TCP connection that writes raw bytes and reads whole PDUs, each read bounded by a
/// timeout. Used by one task or thread at a time.
final class RawISCSIClient: @unchecked Sendable {
    private let fd: Int32
    private var inbound = ByteBuffer()
    private var decoder = ISCSIPDUDecoder(accepting: .fromTarget, maxDataSegmentLength: 1 << 20)
    let encoder = ISCSIPDUEncoder()

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Connects to 127.0.0.1:`port`, from `source` (another loopback address, e.g. 127.0.0.2,
    /// for the per-source limits) when given.
    init(port: Int, timeoutSeconds: Int = 5, source: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                close(fd)
                throw Failure(description: "bind to \(source) failed: errno \(errno)")
            }
        }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // A target that stops reading fails a send after the same timeout, not never.
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw Failure(description: "connect to port \(port) failed: errno \(errno)")
        }
    }

    deinit { close(fd) }

    func send(_ pdu: ISCSIPDU) throws {
        var buffer = ByteBuffer()
        encoder.encode(pdu, into: &buffer)
        try sendBytes(buffer)
    }

    func sendBytes(_ buffer: ByteBuffer) throws {
        let bytes = Array(buffer.readableBytesView)
        var sent = 0
        // Bounded: each turn sends at least one byte or fails.
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw Failure(description: "send failed: errno \(errno)") }
            sent += count
        }
    }

    /// Whether a `receive()` would find something (bytes, or the end of the connection)
    /// within `milliseconds`, so one thread can watch several connections.
    func isReadable(within milliseconds: Int32) -> Bool {
        if inbound.readableBytes > 0 { return true }
        var watched = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&watched, 1, milliseconds) > 0
    }

    /// The next PDU, or nil when the target closed the connection; throws on timeout.
    func receive() throws -> ISCSIPDU? {
        // Bounded: each turn reads bytes or ends (EOF, timeout).
        while true {
            if let pdu = try decoder.decode(buffer: &inbound) { return pdu }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return nil }
            guard count > 0 else {
                if errno == ECONNRESET { return nil }
                throw Failure(description: "no PDU from the target within the timeout (errno \(errno))")
            }
            inbound.writeBytes(chunk[0..<count])
        }
    }

    /// Logs in to `target` with AuthMethod=None straight to full feature phase, offering `keys`
    /// besides the names and digests; returns the final response.
    func login(
        target: String, initiator: String = "iqn.2025-01.io.vdiskd:raw", isid: UInt64 = 0x80_0000_0001_00, keys: [TextKeyValue] = []
    ) throws -> LoginResponse {
        try send(.loginRequest(LoginRequest(
            transit: true, currentStage: .operationalNegotiation, nextStage: .fullFeaturePhase, isid: isid, tsih: 0,
            initiatorTaskTag: 1, connectionID: 0, cmdSN: 1, expStatSN: 0,
            data: ByteBuffer(textKeyValues: [
                TextKeyValue("InitiatorName", initiator), TextKeyValue("TargetName", target),
                TextKeyValue("HeaderDigest", "None"), TextKeyValue("DataDigest", "None"),
            ] + keys)
        )))
        guard case .loginResponse(let response) = try receive() else { throw Failure(description: "no Login Response") }
        return response
    }
}
